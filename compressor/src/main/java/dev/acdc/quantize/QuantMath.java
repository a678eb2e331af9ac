package dev.acdc.quantize;

/**
 * The arithmetic of ONNX's linear quantization, as {@code QuantizeLinear}/{@code DequantizeLinear}
 * define it: {@code q = saturate(round(x / scale) + zeroPoint)} with rounding half to even, and
 * {@code x' = (q - zeroPoint) * scale}. Weights are symmetric int8 per output channel (zero point 0,
 * range ±127 so that the int8 × uint8 kernels of ONNX Runtime never overflow their pair sums);
 * activations are asymmetric uint8 per tensor; biases int32 with scale {@code sx·sw[c]}.
 */
public final class QuantMath {
    /** Largest magnitude of a symmetric int8 weight. */
    public static final int WEIGHT_MAX = 127;

    private QuantMath() {
    }

    /** Per-channel int8 of a weight: {@code values[i]} belongs to channel {@code (i / inner) % channels}. */
    public record PerChannel(long[] values, float[] scales, int axis, long inner) {
        public int channelOf(int i) {
            return (int) ((i / inner) % scales.length);
        }

        /** The values {@code DequantizeLinear} gives back. */
        public float[] dequantized() {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = values[i] * scales[channelOf(i)];
            }
            return f;
        }
    }

    /** An affine per-tensor quantization of an activation. */
    public record Affine(float scale, int zeroPoint, int qmin, int qmax) {
        public long quantize(float x) {
            return QuantMath.quantize(x, scale, zeroPoint, qmin, qmax);
        }

        public float dequantize(long q) {
            return (q - zeroPoint) * scale;
        }

        /** quantize then dequantize: what the value becomes after a Q/DQ pair. */
        public float fake(float x) {
            return dequantize(quantize(x));
        }
    }

    /** {@code QuantizeLinear} of one value (float division, half-to-even rounding, saturation). */
    public static long quantize(float x, float scale, int zeroPoint, int qmin, int qmax) {
        double r = Math.rint(x / scale) + zeroPoint;
        if (Double.isNaN(r)) {
            return zeroPoint;
        }
        return (long) Math.max(qmin, Math.min(qmax, r));
    }

    /**
     * Symmetric int8 of {@code w} (shape {@code shape}) per slice along {@code axis}: scale = max|w| / 127
     * of the slice (1 for an all-zero slice), zero point 0.
     */
    public static PerChannel symmetric(float[] w, long[] shape, int axis) {
        if (axis < 0 || axis >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " of a rank-" + shape.length + " tensor");
        }
        int channels = (int) shape[axis];
        long inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        float[] max = new float[channels];
        for (int i = 0; i < w.length; i++) {
            int c = (int) ((i / inner) % channels);
            max[c] = Math.max(max[c], Math.abs(w[i]));
        }
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = max[c] > 0 && Float.isFinite(max[c]) ? max[c] / WEIGHT_MAX : 1f;
        }
        return withScales(w, scales, axis, inner);
    }

    /**
     * As {@link #symmetric}, each scale then rounded up to a half-precision value (so the slice's largest
     * magnitude still maps within ±127) and the values quantized with that scale: the scales can be stored as
     * FLOAT16 at half the bytes, the weights exactly as they will be read back. A scale under half
     * precision's smallest positive value (2^-24) becomes that value.
     */
    public static PerChannel symmetricHalfScales(float[] w, long[] shape, int axis) {
        PerChannel p = symmetric(w, shape, axis);
        float[] scales = new float[p.scales().length];
        for (int c = 0; c < scales.length; c++) {
            scales[c] = halfAtLeast(p.scales()[c]);
        }
        return withScales(w, scales, axis, p.inner());
    }

    /** {@code w} quantized with the given per-channel {@code scales} (symmetric, ±{@value #WEIGHT_MAX}). */
    private static PerChannel withScales(float[] w, float[] scales, int axis, long inner) {
        long[] q = new long[w.length];
        for (int i = 0; i < w.length; i++) {
            int c = (int) ((i / inner) % scales.length);
            q[i] = quantize(w[i], scales[c], 0, -WEIGHT_MAX, WEIGHT_MAX);
        }
        return new PerChannel(q, scales, axis, inner);
    }

    /** The smallest half-precision value at least {@code s} (s positive and within half's range). */
    static float halfAtLeast(float s) {
        float min = dev.acdc.util.Half.toFloat((short) 1); // 2^-24, the smallest positive subnormal
        if (!(s > min)) {
            return min;
        }
        short bits = dev.acdc.util.Half.fromFloat(s);
        float h = dev.acdc.util.Half.toFloat(bits);
        return h >= s ? h : dev.acdc.util.Half.toFloat((short) (bits + 1));
    }

    /**
     * Per-channel scales in one byte each: channel c's scale is {@code base · exp(codes[c] · step)}, computed in
     * float32 as the model computes it (Cast, Mul, Exp, Mul of constants, which ONNX Runtime folds at load), with
     * {@code base} the smallest scale of a non-zero channel and {@code step} spreading the tensor's range of
     * scales over the 255 codes (so a channel's scale is at most {@code exp(step)} above its own: ResNet-20's
     * coefficients, 2.7 to 16.5 octaves, 0.7 to 4.6 %). {@code q} holds the decoded scales and the values
     * quantized with them. An all-zero channel takes code 0.
     */
    public record LogScales(PerChannel q, long[] codes, float base, float step) {
        /** The scale of code {@code k}, as the model computes it in float32. */
        public float decode(int k) {
            return LogScales.decode(base, step, k);
        }

        static float decode(float base, float step, int k) {
            return base * (float) Math.exp((float) k * step);
        }
    }

    /** As {@link #symmetric}, its scales then coded in one byte each and the values quantized with the decoded ones ({@link LogScales}). */
    public static LogScales symmetricLogScales(float[] w, long[] shape, int axis) {
        PerChannel p = symmetric(w, shape, axis);
        int channels = p.scales().length;
        boolean[] used = new boolean[channels];
        for (int i = 0; i < w.length; i++) {
            if (w[i] != 0 && Float.isFinite(w[i])) {
                used[(int) ((i / p.inner()) % channels)] = true;
            }
        }
        float lo = Float.POSITIVE_INFINITY;
        float hi = 0;
        for (int c = 0; c < channels; c++) {
            if (used[c]) {
                lo = Math.min(lo, p.scales()[c]);
                hi = Math.max(hi, p.scales()[c]);
            }
        }
        if (hi == 0) { // no non-zero channel
            lo = 1;
            hi = 1;
        }
        // 254 steps over the range, so that rounding in float32 leaves the largest scale a code (255 at most)
        float step = (float) (Math.log((double) hi / lo) / 254);
        long[] codes = new long[channels];
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            int k = 0;
            if (used[c] && step > 0) {
                k = Math.max(0, (int) Math.floor(Math.log((double) p.scales()[c] / lo) / step));
                while (LogScales.decode(lo, step, k) < p.scales()[c]) {
                    k++;
                }
            }
            if (k > 255) {
                throw new IllegalStateException("scale code " + k + " over 255");
            }
            codes[c] = k;
            scales[c] = LogScales.decode(lo, step, k);
        }
        return new LogScales(withScales(w, scales, axis, p.inner()), codes, lo, step);
    }

    /**
     * The uint8 quantization of a tensor whose values lie in [lo, hi]: the range is widened to hold 0
     * (so that zero padding and ReLU's zero are exact) and mapped onto 0..255.
     */
    public static Affine uint8(double lo, double hi) {
        double a = Math.min(0, lo);
        double b = Math.max(0, hi);
        if (!Double.isFinite(a) || !Double.isFinite(b)) {
            throw new IllegalArgumentException("activation range [" + lo + ", " + hi + "] is not finite");
        }
        if (b - a < 1e-12) {
            return new Affine(1f, 0, 0, 255);
        }
        float scale = (float) ((b - a) / 255);
        int zp = (int) Math.max(0, Math.min(255, Math.rint(-a / scale)));
        return new Affine(scale, zp, 0, 255);
    }

    /** int32 of a bias for an input of scale {@code xScale} and weights of per-channel {@code wScales}. */
    public static long[] bias(float[] b, float xScale, float[] wScales) {
        long[] q = new long[b.length];
        for (int c = 0; c < b.length; c++) {
            float s = xScale * wScales[wScales.length == 1 ? 0 : c];
            q[c] = quantize(b[c], s, 0, Integer.MIN_VALUE + 1, Integer.MAX_VALUE);
        }
        return q;
    }
}
