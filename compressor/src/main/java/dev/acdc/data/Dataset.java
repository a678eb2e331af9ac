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

    @Override
    default void close() {
    }

    default int imageBytes() {
        return channels() * height() * width();
    }
}
