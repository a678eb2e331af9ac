package dev.acdc.data;

import java.util.Arrays;

/**
 * Some images of another data set, by index (a {@link Sampling.Subset} or its complement), read
 * through to it. Closing the view leaves the underlying data set open: its owner closes it.
 */
public final class SubsetDataset implements Dataset {
    private final Dataset base;
    private final int[] indices;
    private final String description;

    public SubsetDataset(Dataset base, int[] indices, String description) {
        this.base = base;
        this.indices = indices.clone();
        this.description = description;
    }

    /** The images of {@code base} that {@code subset} does not hold, in order. */
    public static int[] complement(int size, Sampling.Subset subset) {
        boolean[] taken = new boolean[size];
        for (int i : subset.indices()) {
            taken[i] = true;
        }
        int[] rest = new int[size - subset.size()];
        int k = 0;
        for (int i = 0; i < size; i++) {
            if (!taken[i]) {
                rest[k++] = i;
            }
        }
        return rest;
    }

    /** The indices into the underlying data set, in order. */
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int channels() {
        return base.channels();
    }

    @Override
    public int height() {
        return base.height();
    }

    @Override
    public int width() {
        return base.width();
    }

    @Override
    public boolean hasLabels() {
        return base.hasLabels();
    }

    @Override
    public int classes() {
        return base.classes();
    }

    @Override
    public void readForTraining(int index, byte[] pixels, int[] labels, long seed) {
        base.readForTraining(indices[index], pixels, labels, seed);
    }

    @Override
    public void read(int start, int n, byte[] pixels, int[] labels) {
        int img = imageBytes();
        // runs of consecutive indices are read in one call (a stratified sample of a class-ordered set has many)
        int k = 0;
        while (k < n) {
            int first = indices[start + k];
            int run = 1;
            while (k + run < n && indices[start + k + run] == first + run) {
                run++;
            }
            byte[] px = run == n ? pixels : new byte[run * img];
            int[] lab = new int[run];
            base.read(first, run, px, lab);
            if (px != pixels) {
                System.arraycopy(px, 0, pixels, k * img, run * img);
            }
            if (labels != null) {
                System.arraycopy(lab, 0, labels, k, run);
            }
            k += run;
        }
    }

    @Override
    public int[] labels() {
        int[] all = base.labels();
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = all[indices[i]];
        }
        return out;
    }

    @Override
    public void close() {
        // the underlying data set belongs to its opener
    }

    @Override
    public String toString() {
        return description + " " + Arrays.toString(Arrays.copyOf(indices, Math.min(4, indices.length))) + "...";
    }
}
