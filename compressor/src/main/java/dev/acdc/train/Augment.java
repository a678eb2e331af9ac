package dev.acdc.train;

import java.util.Random;

/** Pad-and-crop (zero padding) and horizontal flip of NCHW float batches, from a seeded generator. */
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
}
