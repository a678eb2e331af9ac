package dev.acdc.quantize;

import java.util.Locale;

/**
 * What calibration saw of one activation tensor, in two passes over the same images: first its
 * minimum and maximum, then (with the range fixed) histograms of its values and of their magnitudes.
 * From them {@link #range(Method, double)} chooses the clipping range the tensor is quantized over.
 */
public final class RangeStatistics {
    /** Histogram bins of the second pass. */
    public static final int BINS = 2048;

    /** How the clipping range is chosen. */
    public enum Method {
        /** The observed minimum and maximum. */
        MINMAX,
        /** The given percentile of the values at each end (outliers clipped). */
        PERCENTILE,
        /** The threshold whose quantized distribution is closest in KL divergence to the observed one. */
        ENTROPY;

        public static Method parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "minmax", "min-max" -> MINMAX;
                case "percentile" -> PERCENTILE;
                case "entropy", "kl" -> ENTROPY;
                default -> throw new dev.acdc.AcdcException("--calibration-method must be minmax, percentile or entropy, got '"
                        + s + "'");
            };
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private long nonFinite;
    private long count;
    private long[] values;
    private long[] magnitudes;

    /** First pass: widens the observed range by {@code x[off..off+n)}. */
    public void observeRange(float[] x, int off, int n) {
        double lo = min;
        double hi = max;
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) {
                nonFinite++;
                continue;
            }
            if (v < lo) {
                lo = v;
            }
            if (v > hi) {
                hi = v;
            }
        }
        min = lo;
        max = hi;
        count += n;
    }

    /** Second pass: adds {@code x[off..off+n)} to the histograms over the range of the first. */
    public void observeHistogram(float[] x, int off, int n) {
        if (values == null) {
            values = new long[BINS];
            magnitudes = new long[BINS];
        }
        double lo = min();
        double width = (max() - lo) / BINS;
        double absMax = absMax();
        double magWidth = absMax / BINS;
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) {
                continue;
            }
            if (width > 0) {
                values[bin((v - lo) / width)]++;
            }
            if (magWidth > 0 && v != 0) { // exact zeros (ReLU's) are exact in any range: they say nothing of it
                magnitudes[bin(Math.abs(v) / magWidth)]++;
            }
        }
    }

    private static int bin(double r) {
        return (int) Math.max(0, Math.min(BINS - 1, r));
    }

    public double min() {
        return count == 0 || min > max ? 0 : min;
    }

    public double max() {
        return count == 0 || min > max ? 0 : max;
    }

    public double absMax() {
        return Math.max(Math.abs(min()), Math.abs(max()));
    }

    public long count() {
        return count;
    }

    /** Values that were NaN or infinite (calibration refuses a tensor that has any). */
    public long nonFinite() {
        return nonFinite;
    }

    /**
     * The clipping range [lo, hi] by {@code method}; {@code percentile} (e.g. 99.999) is used by
     * {@link Method#PERCENTILE} only. Needs the histogram pass for every method but min-max.
     */
    public double[] range(Method method, double percentile) {
        double lo = min();
        double hi = max();
        if (method == Method.MINMAX || hi <= lo) {
            return new double[] {lo, hi};
        }
        if (values == null) {
            throw new IllegalStateException("the histogram pass did not run");
        }
        if (method == Method.PERCENTILE) {
            double tail = (100 - percentile) / 100;
            double width = (hi - lo) / BINS;
            double a = lo < 0 ? lo + width * quantileBin(values, tail / 2, false) : lo;
            double b = lo + width * (quantileBin(values, tail / 2, true) + 1);
            return new double[] {Math.max(lo, a), Math.min(hi, b)};
        }
        // entropy: TensorRT's KL threshold search on the magnitudes' histogram
        boolean signed = lo < 0;
        int levels = signed ? 128 : 255;
        int best = klThresholdBin(magnitudes, levels);
        double t = absMax() * (best + 1) / BINS;
        return new double[] {Math.max(lo, -t), Math.min(hi, t)};
    }

    /** The bin below (or, from the top, above) which {@code fraction} of the mass lies. */
    private static int quantileBin(long[] h, double fraction, boolean fromTop) {
        long total = 0;
        for (long c : h) {
            total += c;
        }
        double target = fraction * total;
        long acc = 0;
        for (int k = 0; k < h.length; k++) {
            int i = fromTop ? h.length - 1 - k : k;
            acc += h[i];
            if (acc > target) {
                return i;
            }
        }
        return fromTop ? 0 : h.length - 1;
    }

    /**
     * The last bin of the threshold minimising KL(P ‖ Q), where P is the histogram clipped at the
     * threshold (the mass above folded into its last bin) and Q is the histogram below the threshold
     * (without that folded mass, so clipping costs) merged into {@code levels} quantization bins and
     * expanded back over its non-zero bins, as TensorRT's calibrator does.
     */
    static int klThresholdBin(long[] h, int levels) {
        int n = h.length;
        int bestBin = n - 1;
        double bestKl = Double.POSITIVE_INFINITY;
        double[] p = new double[n];
        double[] above = new double[n + 1]; // above[i]: the mass of bins i and up
        for (int k = n - 1; k >= 0; k--) {
            above[k] = above[k + 1] + h[k];
        }
        for (int i = levels; i <= n; i++) {
            double outliers = above[i];
            double total = 0;
            for (int k = 0; k < i; k++) {
                p[k] = h[k];
                total += h[k];
            }
            p[i - 1] += outliers;
            total += outliers;
            if (total == 0) {
                continue;
            }
            // Q: merge the first i bins into `levels` groups, spread each group's mass over its non-zero bins
            double kl = 0;
            double qTotal = 0;
            double[] q = new double[i];
            for (int j = 0; j < levels; j++) {
                int start = (int) ((long) j * i / levels);
                int end = (int) ((long) (j + 1) * i / levels);
                double mass = 0;
                int nonZero = 0;
                for (int k = start; k < end; k++) { // from the histogram without the folded outliers
                    mass += h[k];
                    if (h[k] != 0) {
                        nonZero++;
                    }
                }
                for (int k = start; k < end; k++) {
                    q[k] = h[k] != 0 ? mass / nonZero : 0;
                    qTotal += q[k];
                }
            }
            if (qTotal == 0) {
                continue;
            }
            for (int k = 0; k < i; k++) {
                if (p[k] == 0) {
                    continue;
                }
                double pk = p[k] / total;
                double qk = q[k] / qTotal;
                kl += qk > 0 ? pk * Math.log(pk / qk) : pk * 30; // an empty Q bin under mass: a large penalty
            }
            if (kl < bestKl) {
                bestKl = kl;
                bestBin = i - 1;
            }
        }
        return bestBin;
    }
}
