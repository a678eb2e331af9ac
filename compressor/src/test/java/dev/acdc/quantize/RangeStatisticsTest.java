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
}
