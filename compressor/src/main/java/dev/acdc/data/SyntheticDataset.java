package dev.acdc.data;

import java.util.Random;

/** Random 8-bit images with random labels, held in memory: for tests and benchmarks, where only shapes matter. */
public final class SyntheticDataset implements Dataset {
    private final byte[] pixels;
    private final int[] labels;
    private final int c;
    private final int h;
    private final int w;
    private final int classes;

    public SyntheticDataset(int n, int c, int h, int w, int classes, long seed) {
        this.c = c;
        this.h = h;
        this.w = w;
        this.classes = classes;
        Random r = new Random(seed);
        pixels = new byte[n * c * h * w];
        r.nextBytes(pixels);
        labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(classes);
        }
    }

    @Override
    public String describe() {
        return "synthetic (" + labels.length + " images)";
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int channels() {
        return c;
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
    public boolean hasLabels() {
        return true;
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public void read(int start, int n, byte[] dst, int[] lab) {
        int img = c * h * w;
        System.arraycopy(pixels, start * img, dst, 0, n * img);
        if (lab != null) {
            System.arraycopy(labels, start, lab, 0, n);
        }
    }
}
