package dev.acdc.quantize;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RangeStatisticsTest {
    private static RangeStatistics of(float[] x) {
        RangeStatistics s = new RangeStatistics();
        s.observeRange(x, 0, x.length);
        s.observeHistogram(x, 0, x.length);
        return s;
    }

    /** A ReLU-like tensor (half exact zeros, a Gaussian tail) with one far outlier. */
    private static float[] reluWithOutlier() {
        Random r = new Random(3);
        float[] x = new float[200_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.max(0, r.nextGaussian());
        }
        x[17] = 40f;
        return x;
    }

    @Test
    void minMaxKeepsTheOutlierPercentileAndEntropyClipIt() {
        RangeStatistics s = of(reluWithOutlier());
        assertEquals(0, s.min());
        assertEquals(40, s.max(), 1e-6);
        assertEquals(40, s.range(RangeStatistics.Method.MINMAX, 99.99)[1], 1e-6);
        double p = s.range(RangeStatistics.Method.PERCENTILE, 99.99)[1];
        // the 99.99th percentile of a half-normal is about 3.9; one bin of 40/2048 of resolution
        assertTrue(p > 3.6 && p < 4.4, "percentile clip " + p);
        double e = s.range(RangeStatistics.Method.ENTROPY, 99.99)[1];
        assertTrue(e > 2 && e < 10, "entropy clip " + e + " lies between the bulk and the outlier");
        assertEquals(0, s.range(RangeStatistics.Method.ENTROPY, 99.99)[0], "a non-negative tensor keeps 0 as its low end");
    }

    @Test
    void quantizationIsExactAtZeroAndWithinHalfAStepInside() {
        QuantMath.Affine a = QuantMath.uint8(-1.3, 4.1);
        assertEquals(0f, a.fake(0f), "zero is exact (zero padding, ReLU)");
        for (float v = -1.3f; v <= 4.1f; v += 0.01f) {
            assertTrue(Math.abs(a.fake(v) - v) <= a.scale() / 2 + 1e-6, v + " -> " + a.fake(v));
        }
        assertEquals(255, a.quantize(100f), "saturates");
        QuantMath.PerChannel w = QuantMath.symmetric(new float[] {0.5f, -1f, 0f, 0f, 2f, 0.2f}, new long[] {3, 2}, 0);
        assertEquals(1f / 127, w.scales()[0], 1e-9);
        assertEquals(1f, w.scales()[1], "an all-zero channel gets scale 1");
        assertEquals(-127, w.values()[1]);
        assertEquals(127, w.values()[4]);
        long[] b = QuantMath.bias(new float[] {0.3f, -0.2f, 1f}, 0.01f, w.scales());
        assertEquals(Math.rint(0.3f / (0.01f * w.scales()[0])), b[0]);
    }

    /**
     * Half-precision scales: each is the smallest half value at or above the float scale (so the row's
     * largest magnitude still maps within ±127), and every value comes back within half of that scale's step;
     * a row of tiny values (scale under half's smallest subnormal) gets that subnormal and rounds to 0.
     */
    @Test
    void halfScalesAreRoundedUpAndTheValuesQuantizedWithThem() {
        Random r = new Random(3);
        int rows = 64;
        int cols = 5;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            double magnitude = Math.pow(10, -1 - 4 * (i / cols) / (double) rows); // rows from 1e-1 down to 1e-5
            w[i] = (float) (r.nextGaussian() * magnitude);
        }
        for (int c = 0; c < cols; c++) {
            w[(rows - 1) * cols + c] = 1e-9f * (c - 2); // the last row: far below half's smallest step
        }
        QuantMath.PerChannel f = QuantMath.symmetric(w, new long[] {rows, cols}, 0);
        QuantMath.PerChannel h = QuantMath.symmetricHalfScales(w, new long[] {rows, cols}, 0);
        float smallest = (float) Math.pow(2, -24);
        for (int row = 0; row < rows; row++) {
            float s = h.scales()[row];
            assertEquals(s, dev.acdc.util.Half.round(s), "a half value: " + s);
            assertTrue(s >= f.scales()[row] || s == smallest, row + ": " + s + " < " + f.scales()[row]);
            if (f.scales()[row] > smallest) {
                assertTrue(s <= f.scales()[row] * (1 + Math.pow(2, -10)) + Math.pow(2, -24), row + ": rounded up by more than one step");
            }
            for (int c = 0; c < cols; c++) {
                int i = row * cols + c;
                assertTrue(Math.abs(h.values()[i]) <= QuantMath.WEIGHT_MAX);
                assertTrue(Math.abs(h.values()[i] * s - w[i]) <= s / 2 * (1 + 1e-6), i + ": " + h.values()[i] * s + " vs " + w[i]);
            }
        }
        assertEquals(smallest, h.scales()[rows - 1]);
        for (int c = 0; c < cols; c++) {
            assertEquals(0, h.values()[(rows - 1) * cols + c]);
        }
    }

    /**
     * Scales coded in one byte: each decoded scale is at or above the float scale (so the row's largest
     * magnitude still maps within ±127) and at most one step of the code above it, the codes span 0..255
     * over a range of 2^16.5 (as a ResNet-20 coefficient tensor's), every value comes back within half its
     * decoded scale, and an all-zero row takes code 0 and stays zero.
     */
    @Test
    void codedScalesAreRoundedUpOneStepAtMostAndTheValuesQuantizedWithThem() {
        Random r = new Random(3);
        int rows = 64;
        int cols = 5;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            double magnitude = Math.pow(2, -2 - 16.5 * (i / cols) / (rows - 2)); // rows from 2^-2 to 2^-18.5
            w[i] = (float) (r.nextGaussian() * magnitude);
        }
        for (int c = 0; c < cols; c++) {
            w[(rows - 1) * cols + c] = 0; // the last row: zeros
        }
        long[] shape = {rows, cols};
        QuantMath.PerChannel f = QuantMath.symmetric(w, shape, 0);
        QuantMath.LogScales coded = QuantMath.symmetricLogScales(w, shape, 0);
        QuantMath.PerChannel h = coded.q();
        double ratio = Math.exp(coded.step());
        assertTrue(ratio > 1.04 && ratio < 1.05, "2^16.5 over 254 steps: " + ratio);
        long maxCode = 0;
        for (int row = 0; row < rows - 1; row++) {
            float s = h.scales()[row];
            assertEquals(coded.decode((int) coded.codes()[row]), s, "the decoded code: row " + row);
            assertEquals(coded.base() * (float) Math.exp((float) coded.codes()[row] * coded.step()), s);
            assertTrue(s >= f.scales()[row], row + ": " + s + " < " + f.scales()[row]);
            assertTrue(s <= f.scales()[row] * ratio * (1 + 1e-6), row + ": rounded up by more than one step");
            maxCode = Math.max(maxCode, coded.codes()[row]);
            for (int c = 0; c < cols; c++) {
                int i = row * cols + c;
                assertTrue(Math.abs(h.values()[i]) <= QuantMath.WEIGHT_MAX);
                assertTrue(Math.abs(h.values()[i] * s - w[i]) <= s / 2 * (1 + 1e-6), i + ": " + h.values()[i] * s + " vs " + w[i]);
            }
        }
        assertTrue(maxCode >= 250 && maxCode <= 255, "the codes span the byte: " + maxCode);
        assertEquals(0, coded.codes()[rows - 1]);
        for (int c = 0; c < cols; c++) {
            assertEquals(0, h.values()[(rows - 1) * cols + c]);
        }
        // one scale for every row: code 0 everywhere, the scale itself
        float[] same = {1, -2, 0.5f, 2};
        QuantMath.LogScales flat = QuantMath.symmetricLogScales(same, new long[] {2, 2}, 0);
        assertEquals(0, flat.codes()[0] + flat.codes()[1]);
        assertEquals(2f / QuantMath.WEIGHT_MAX, flat.q().scales()[0]);
    }
}
