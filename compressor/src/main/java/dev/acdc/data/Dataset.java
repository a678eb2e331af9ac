package dev.acdc.data;

/**
 * Images with optional integer labels, read by index range so large sets stream in batches. Pixels
 * are 8-bit, delivered channel-major (CHW) per image.
 */
public interface Dataset extends AutoCloseable {
    /** e.g. "cifar10: test-jpeg.bin (10000 images)". */
    String describe();

    int size();

    int channels();

    int height();

    int width();

    boolean hasLabels();

    /** Number of classes (max label + 1, or the folder count), 0 without labels. */
    int classes();

    /**
     * Reads images [start, start + n): {@code pixels} gets n·C·H·W bytes (CHW per image), {@code labels}
     * (may be null) gets n labels.
     */
    void read(int start, int n, byte[] pixels, int[] labels);

    /**
     * Image {@code index} as training sees it: a data set that draws random crops draws them from
     * {@code seed} (so a resumed run sees the same ones); the others read the image as {@link #read} does.
     * {@code pixels} gets C·H·W bytes, {@code labels} (may be null) one label.
     */
    default void readForTraining(int index, byte[] pixels, int[] labels, long seed) {
        read(index, 1, pixels, labels);
    }

    /**
     * Every image's label, in order (only when {@link #hasLabels()}). The default reads the images in
     * chunks; data sets that hold their labels apart override it so no image is decoded.
     */
    default int[] labels() {
        int n = size();
        int[] labels = new int[n];
        int chunk = 1024;
        byte[] pixels = new byte[Math.min(chunk, Math.max(1, n)) * imageBytes()];
        int[] buf = new int[chunk];
        for (int s = 0; s < n; s += chunk) {
            int k = Math.min(chunk, n - s);
            read(s, k, pixels, buf);
            System.arraycopy(buf, 0, labels, s, k);
        }
        return labels;
    }

    @Override
    default void close() {
    }

    default int imageBytes() {
        return channels() * height() * width();
    }
}
