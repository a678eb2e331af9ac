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
}
