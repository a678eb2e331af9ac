package dev.acdc.data;

import dev.acdc.AcdcException;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of MNIST and Fashion-MNIST (gzip or plain): an image file (magic 0x00000803,
 * unsigned bytes, N×H×W) and a label file (magic 0x00000801, N). The pixel bytes (N·H·W, 47 MB for
 * 60 000 28×28 images) are held as bytes; floats are made per batch.
 */
public final class IdxDataset implements Dataset {
    private final Path imagesFile;
    private final byte[] pixels;
    private final byte[] labels;
    private final int n;
    private final int h;
    private final int w;
    private final int classes;

    public IdxDataset(Path images, Path labelsFile) {
        this.imagesFile = images;
        int[] dims;
        try (DataInputStream in = open(images)) {
            int magic = in.readInt();
            if (magic != 0x00000803) {
                throw new AcdcException("IDX image file " + images + " has magic 0x" + String.format("%08x", magic)
                        + ", expected 0x00000803 (unsigned bytes, 3 dimensions)");
            }
            dims = new int[] {in.readInt(), in.readInt(), in.readInt()};
            for (int d : dims) {
                if (d <= 0) {
                    throw new AcdcException("IDX image file " + images + " declares a dimension of " + d);
                }
            }
            long bytes = (long) dims[0] * dims[1] * dims[2];
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new AcdcException("IDX image file " + images + " declares " + bytes + " pixels, too many");
            }
            pixels = readExactly(in, (int) bytes, images);
        } catch (IOException e) {
            throw new AcdcException("cannot read IDX images " + images + ": " + e.getMessage());
        }
        n = dims[0];
        h = dims[1];
        w = dims[2];
        if (labelsFile != null) {
            try (DataInputStream in = open(labelsFile)) {
                int magic = in.readInt();
                if (magic != 0x00000801) {
                    throw new AcdcException("IDX label file " + labelsFile + " has magic 0x" + String.format("%08x", magic)
                            + ", expected 0x00000801 (unsigned bytes, 1 dimension)");
                }
                int count = in.readInt();
                if (count != n) {
                    throw new AcdcException("IDX label file " + labelsFile + " has " + count + " labels for " + n
                            + " images");
                }
                labels = readExactly(in, count, labelsFile);
            } catch (IOException e) {
                throw new AcdcException("cannot read IDX labels " + labelsFile + ": " + e.getMessage());
            }
            int max = 0;
            for (byte b : labels) {
                max = Math.max(max, b & 0xff);
            }
            classes = max + 1;
        } else {
            labels = null;
            classes = 0;
        }
    }

    private static DataInputStream open(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new AcdcException(Files.isDirectory(p) ? p + " is a folder, not a data file (a folder of images "
                        + "is read as folder:DIR)" : "no such data file: " + p);
        }
        InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        InputStream in = b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
        return new DataInputStream(in);
    }

    private static byte[] readExactly(DataInputStream in, int n, Path p) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(b, off, n - off);
            if (r < 0) {
                throw new AcdcException("IDX file " + p + " ends after " + off + " of " + n + " data bytes (truncated)");
            }
            off += r;
        }
        return b;
    }

    @Override
    public String describe() {
        return "idx: " + imagesFile.getFileName() + " (" + n + " images " + h + "x" + w + ")";
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public int[] labels() {
        int[] l = new int[labels == null ? 0 : n];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels[i] & 0xff;
        }
        return l;
    }

    @Override
    public boolean hasLabels() {
        return labels != null;
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public void read(int start, int count, byte[] dst, int[] lab) {
        int img = h * w;
        System.arraycopy(pixels, start * img, dst, 0, count * img);
        if (lab != null && labels != null) {
            for (int k = 0; k < count; k++) {
                lab[k] = labels[start + k] & 0xff;
            }
        }
    }
}
