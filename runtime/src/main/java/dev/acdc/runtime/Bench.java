package dev.acdc.runtime;

import dev.acdc.AcdcException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Latency of ONNX Runtime inference per batch size: warm-up runs, then timed runs on a fixed random
 * input; with a second model the two run interleaved (A, B, A, B, ...) so machine noise hits both
 * alike, and their ratio is reported per batch size.
 */
public final class Bench {
    /** Latency percentiles (ms) and throughput for one model at one batch size. */
    public record Stat(int batch, double p50, double p90, double p99, double imagesPerSecond) {
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("batch", batch);
            m.put("p50ms", p50);
            m.put("p90ms", p90);
            m.put("p99ms", p99);
            m.put("imagesPerSecond", imagesPerSecond);
            return m;
        }
    }

    /** One batch size's figures: the model's, and the other model's when given. */
    public record Row(Stat a, Stat b) {
        public double ratio() {
            return b == null ? Double.NaN : b.p50 / a.p50;
        }
    }

    private Bench() {
    }

    public static List<Row> run(byte[] model, byte[] other, List<Integer> batches, Sessions.Config cfg, int warmup,
                                int runs, java.util.function.Consumer<String> notice) {
        return run(model, other, batches, cfg, warmup, runs, null, notice);
    }

    /**
     * As above, at {@code inputShape} (N,C,H,W as compress takes it; its batch is ignored, the batch sizes rule;
     * null: the declared shape, which must then fix every non-batch dimension).
     */
    public static List<Row> run(byte[] model, byte[] other, List<Integer> batches, Sessions.Config cfg, int warmup,
                                int runs, long[] inputShape, java.util.function.Consumer<String> notice) {
        if (runs < 1 || warmup < 0) {
            throw new AcdcException("--runs must be at least 1 and --warmup-runs at least 0");
        }
        List<Row> rows = new ArrayList<>();
        try (ModelIO a = new ModelIO(model, cfg, notice); ModelIO b = other == null ? null : new ModelIO(other, cfg, s -> { })) {
            long[] in = inputShape != null ? inputShape : a.inputShape();
            long[] declared = a.inputShape();
            if (inputShape != null && inputShape.length != declared.length) {
                throw new AcdcException("--input-shape " + Validator.shapeString(inputShape) + " has " + inputShape.length
                        + " dimensions, the model's input " + Validator.shapeString(declared) + " " + declared.length);
            }
            long[] sample = Arrays.copyOfRange(in, 1, in.length);
            for (long d : sample) {
                if (d <= 0) {
                    throw new AcdcException("the model's input " + Validator.shapeString(in)
                            + " leaves a non-batch dimension open; give --input-shape N,C,H,W for the size to time it at");
                }
            }
            for (int batch : batches) {
                if (a.fixedBatch() > 0 && batch != a.fixedBatch()) {
                    notice.accept("batch " + batch + " skipped: the model's batch is fixed to " + a.fixedBatch());
                    continue;
                }
                int per = Validator.perSample(sample);
                long values = (long) batch * per;
                if (values > (1L << 28)) {
                    throw new dev.acdc.AcdcException(String.format("--batch-sizes %d: one input batch would hold %,d values "
                            + "(%.1f GB), more than the %,d (1 GB) a benchmark input may take", batch, values,
                            values * 4 / 1e9, 1L << 28));
                }
                float[] x = Probe.randomInput(new long[] {(long) batch * per}, batch);
                for (int i = 0; i < warmup; i++) {
                    a.run(x, batch, sample);
                    if (b != null) {
                        b.run(x, batch, sample);
                    }
                }
                double[] ta = new double[runs];
                double[] tb = new double[runs];
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    a.run(x, batch, sample);
                    long t1 = System.nanoTime();
                    ta[i] = (t1 - t0) / 1e6;
                    if (b != null) {
                        b.run(x, batch, sample);
                        tb[i] = (System.nanoTime() - t1) / 1e6;
                    }
                }
                rows.add(new Row(stat(batch, ta), b == null ? null : stat(batch, tb)));
            }
        }
        return rows;
    }

    static Stat stat(int batch, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        double p50 = pct(s, 0.5);
        return new Stat(batch, p50, pct(s, 0.9), pct(s, 0.99), batch / (p50 / 1000));
    }

    /** Nearest-rank percentile of sorted values. */
    static double pct(double[] sorted, double q) {
        int idx = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }
}
