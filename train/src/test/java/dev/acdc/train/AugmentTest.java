package dev.acdc.train;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pad-crop-flip against what it must do, written out independently. */
class AugmentTest {
    @Test
    void padCropFlipShiftsAndMirrorsWithZeroFill() {
        // one 1×3×3 image, pad 1: every output pixel is an input pixel moved by (dy, dx), mirrored or not, or 0
        float[] src = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int seed = 0; seed < 40; seed++) {
            float[] x = src.clone();
            Augment.padCropFlip(x, 1, 1, 3, 3, 1, new Random(seed));
            boolean matched = false;
            for (int dy = -1; dy <= 1 && !matched; dy++) {
                for (int dx = -1; dx <= 1 && !matched; dx++) {
                    for (int flip = 0; flip < 2 && !matched; flip++) {
                        boolean all = true;
                        for (int y = 0; y < 3; y++) {
                            for (int xx = 0; xx < 3; xx++) {
                                int sy = y + dy;
                                int sx = (flip == 1 ? 2 - xx : xx) + dx;
                                float want = sy < 0 || sy > 2 || sx < 0 || sx > 2 ? 0 : src[sy * 3 + sx];
                                all &= x[y * 3 + xx] == want;
                            }
                        }
                        matched = all;
                        if (all) {
                            seen.add(dy + "," + dx + "," + flip);
                        }
                    }
                }
            }
            assertTrue(matched, "seed " + seed + " gave an image that is no shift/flip of the input");
        }
        // 18 possible (dy, dx, flip) draws: 40 seeded draws reach most of them, both flipped and not
        assertTrue(seen.size() >= 12, "draws seen: " + seen);
        assertTrue(seen.stream().anyMatch(k -> k.endsWith(",1")) && seen.stream().anyMatch(k -> k.endsWith(",0")), seen.toString());
    }

    /**
     * The batch mode against a padded copy built explicitly: a 4×4 image reflect-padded by 2 into 8×8
     * (the border mirrors without repeating the edge, as PyTorch's reflect padding), every image of the
     * batch is one and the same 4×4 window of it, mirrored or not.
     */
    @Test
    void batchModeCropsOneReflectPaddedWindowForTheWholeBatch() {
        int h = 4;
        int w = 4;
        int pad = 2;
        int n = 3;
        float[] src = new float[n * h * w];
        for (int i = 0; i < src.length; i++) {
            src[i] = i + 1;
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int seed = 0; seed < 60; seed++) {
            float[] x = src.clone();
            Augment.reflectCropFlipBatch(x, n, 1, h, w, pad, new Random(seed));
            String found = null;
            for (int dy = -pad; dy <= pad && found == null; dy++) {
                for (int dx = -pad; dx <= pad && found == null; dx++) {
                    for (int flip = 0; flip < 2 && found == null; flip++) {
                        boolean all = true;
                        for (int k = 0; k < n; k++) {
                            float[][] padded = new float[h + 2 * pad][w + 2 * pad];
                            int[] ry = {2, 1, 0, 1, 2, 3, 2, 1}; // rows -2..5 of a 4-row image, reflected
                            for (int py = 0; py < h + 2 * pad; py++) {
                                for (int px = 0; px < w + 2 * pad; px++) {
                                    padded[py][px] = src[k * h * w + ry[py] * w + ry[px]];
                                }
                            }
                            for (int y = 0; y < h; y++) {
                                for (int xx = 0; xx < w; xx++) {
                                    int col = flip == 1 ? w - 1 - xx : xx;
                                    all &= x[k * h * w + y * w + xx] == padded[y + dy + pad][col + dx + pad];
                                }
                            }
                        }
                        if (all) {
                            found = dy + "," + dx + "," + flip;
                        }
                    }
                }
            }
            assertTrue(found != null, "seed " + seed + ": no single reflected window and flip gives the batch");
            seen.add(found);
        }
        assertTrue(seen.size() >= 25, "50 possible draws, seen: " + seen);
        assertTrue(seen.stream().anyMatch(k -> k.endsWith(",1")) && seen.stream().anyMatch(k -> k.endsWith(",0")), seen.toString());
    }
}
