package dev.acdc.data;

import dev.acdc.AcdcException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CIFAR-10 binary format: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32,
 * row-major). Several files are read as one set, in order; records are read on demand.
 */
public final class Cifar10Dataset implements Dataset {
    public static final int RECORD = 1 + 3 * 32 * 32;

    private final List<Path> files;
    private final List<RandomAccessFile> handles = new ArrayList<>();
    private final int[] starts;
    private final int size;

    public Cifar10Dataset(List<Path> files) {
        this.files = List.copyOf(files);
        this.starts = new int[files.size() + 1];
        int total = 0;
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            if (!Files.isRegularFile(f)) {
                throw new AcdcException(Files.isDirectory(f) ? f + " is a folder, not a data file (a folder of images "
                        + "is read as folder:DIR)" : "no such data file: " + f);
            }
            long bytes;
            try {
                bytes = Files.size(f);
            } catch (IOException e) {
                throw new AcdcException("cannot read " + f + ": " + e.getMessage());
            }
            if (bytes == 0 || bytes % RECORD != 0) {
                throw new AcdcException("CIFAR-10 file " + f + " is " + bytes + " bytes, not a whole number of "
                        + RECORD + "-byte records (1 label + 3x32x32 pixels)");
            }
            starts[i] = total;
            total += (int) (bytes / RECORD);
            try {
                handles.add(new RandomAccessFile(f.toFile(), "r"));
            } catch (IOException e) {
                throw new AcdcException("cannot open " + f + ": " + e.getMessage());
            }
        }
        starts[files.size()] = total;
        this.size = total;
    }

    @Override
    public String describe() {
        List<String> names = files.stream().map(p -> p.getFileName().toString()).toList();
        return "cifar10: " + String.join(", ", names) + " (" + size + " images)";
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return 32;
    }

    @Override
    public int width() {
        return 32;
    }

    @Override
    public boolean hasLabels() {
        return true;
    }

    @Override
    public int classes() {
        return 10;
    }

    @Override
    public synchronized void read(int start, int n, byte[] pixels, int[] labels) {
        byte[] rec = new byte[RECORD];
        int img = 3072;
        for (int k = 0; k < n; k++) {
            int idx = start + k;
            int f = 0;
            while (idx >= starts[f + 1]) {
                f++;
            }
            long off = (long) (idx - starts[f]) * RECORD;
            try {
                RandomAccessFile h = handles.get(f);
                h.seek(off);
                h.readFully(rec);
            } catch (IOException e) {
                throw new AcdcException("cannot read " + files.get(f) + ": " + e.getMessage());
            }
            int label = rec[0] & 0xff;
            if (label > 9) {
                throw new AcdcException("CIFAR-10 record " + (idx - starts[f]) + " of " + files.get(f) + " has label "
                        + label + ", outside 0-9");
            }
            if (labels != null) {
                labels[k] = label;
            }
            System.arraycopy(rec, 1, pixels, k * img, img);
        }
    }

    @Override
    public void close() {
        for (RandomAccessFile h : handles) {
            try {
                h.close();
            } catch (IOException ignored) {
                // read-only handle
            }
        }
    }
}
