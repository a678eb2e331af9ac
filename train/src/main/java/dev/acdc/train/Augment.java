package dev.acdc.train;

import java.util.Random;

/**
 * Pad-and-crop and horizontal flip of NCHW float batches, from a seeded generator: per image with zero
 * padding ({@link #padCropFlip}), or one crop and one flip for the whole batch with reflect padding
 * ({@link #reflectCropFlipBatch}, the PyTorch reference recipe of the fine-tuning issue).
 */
public final class Augment {
    private Augment() {
    }

    /** Augments {@code x} (n×c×h×w) in place: random shift of up to {@code pad} pixels, flip with p = 0.5. */
    public static void padCropFlip(float[] x, int n, int c, int h, int w, int pad, Random rnd) {
        float[] img = new float[c * h * w];
        int plane = h * w;
        for (int k = 0; k < n; k++) {
            int dy = rnd.nextInt(2 * pad + 1) - pad;
            int dx = rnd.nextInt(2 * pad + 1) - pad;
            boolean flip = rnd.nextBoolean();
            int base = k * c * plane;
            System.arraycopy(x, base, img, 0, c * plane);
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    int sy = y + dy;
                    for (int xx = 0; xx < w; xx++) {
                        int sx = (flip ? w - 1 - xx : xx) + dx;
                        x[base + ch * plane + y * w + xx] = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0
                                : img[ch * plane + sy * w + sx];
                    }
                }
            }
        }
    }

    /**
     * Augments {@code x} (n×c×h×w) in place with one random shift of up to {@code pad} pixels for the whole
     * batch, the border filled by reflection (as {@code F.pad(x, mode="reflect")} then a crop: the pixel at
     * −1 is the pixel at 1), and one horizontal flip of the whole batch with p = 0.5. {@code pad} must be
     * less than h and w (a larger one is reduced to that).
     */
    public static void reflectCropFlipBatch(float[] x, int n, int c, int h, int w, int pad, Random rnd) {
        pad = Math.max(0, Math.min(pad, Math.min(h, w) - 1));
        int dy = rnd.nextInt(2 * pad + 1) - pad;
        int dx = rnd.nextInt(2 * pad + 1) - pad;
        boolean flip = rnd.nextBoolean();
        int plane = h * w;
        int[] rows = new int[h];
        int[] cols = new int[w];
        for (int y = 0; y < h; y++) {
            rows[y] = reflect(y + dy, h);
        }
        for (int xx = 0; xx < w; xx++) {
            cols[xx] = reflect((flip ? w - 1 - xx : xx) + dx, w);
        }
        float[] p = new float[plane];
        for (int k = 0; k < n * c; k++) {
            int base = k * plane;
            System.arraycopy(x, base, p, 0, plane);
            for (int y = 0; y < h; y++) {
                int sy = rows[y] * w;
                for (int xx = 0; xx < w; xx++) {
                    x[base + y * w + xx] = p[sy + cols[xx]];
                }
            }
        }
    }

    /** The index {@code i} reflected into [0, size) without repeating the edge (size > 1, |overhang| < size). */
    static int reflect(int i, int size) {
        if (i < 0) {
            return -i;
        }
        return i >= size ? 2 * (size - 1) - i : i;
    }
}
