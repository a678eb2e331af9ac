package dev.acdc.data;

import dev.acdc.AcdcException;
import dev.acdc.util.AtomicFiles;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes the first images (and labels) of a grey data set as gzip-compressed IDX files, MNIST style. */
public final class IdxWriter {
    private IdxWriter() {
    }

    /** Writes {@code count} images from the start of {@code d} to {@code images} and their labels to {@code labels}. */
    public static void writeSubset(Dataset d, int count, Path images, Path labels) {
        if (d.channels() != 1) {
            throw new AcdcException("IDX subsets are written for grey images; " + d.describe() + " has " + d.channels()
                    + " channels");
        }
        if (count < 1 || count > d.size()) {
            throw new AcdcException("cannot take " + count + " images from " + d.describe() + " (" + d.size() + ")");
        }
        byte[] px = new byte[count * d.imageBytes()];
        int[] y = new int[count];
        d.read(0, count, px, y);
        AtomicFiles.write(images, gzip(0x00000803, new int[] {count, d.height(), d.width()}, px), null);
        if (d.hasLabels()) {
            byte[] lb = new byte[count];
            for (int i = 0; i < count; i++) {
                lb[i] = (byte) y[i];
            }
            AtomicFiles.write(labels, gzip(0x00000801, new int[] {count}, lb), null);
        }
    }

    private static byte[] gzip(int magic, int[] dims, byte[] body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // a fixed header time (0) keeps the files reproducible byte for byte
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(bytes))) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(body);
        } catch (IOException e) {
            throw new AcdcException("cannot compress IDX data: " + e.getMessage());
        }
        return bytes.toByteArray();
    }
}
