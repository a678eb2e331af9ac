package dev.acdc.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtUtil;
import dev.acdc.AcdcException;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Runs two models on the same random probe batch and compares their first outputs. */
public final class Probe {
    /** Differences between two models' outputs on one probe batch. */
    public record Comparison(long[] inputShape, double maxAbsDiff, double meanAbsDiff, double outputScale,
                             double agreement, float[] input, float[] candidateOutput, List<OutputDiff> outputs) {
        public Comparison(long[] inputShape, double maxAbsDiff, double meanAbsDiff, double outputScale,
                          double agreement, float[] input, float[] candidateOutput) {
            this(inputShape, maxAbsDiff, meanAbsDiff, outputScale, agreement, input, candidateOutput, List.of());
        }

        /** Whether the lines of {@link #outputs} say more than the first output's figures: several, or not [N, classes]. */
        public boolean perOutput() {
            return outputs.size() > 1 || outputs.size() == 1 && outputs.get(0).shape().length != 2;
        }
    }

    /**
     * One output of a probe: its largest difference and its scale (largest |value| of the original), and the
     * share of positions whose argmax over {@code classAxis} agrees (NaN where the axis has fewer than 2 entries):
     * the last axis of [N, classes] or [N, anchors, classes], the channels of [N, C, H, W].
     */
    public record OutputDiff(String name, long[] shape, double maxAbsDiff, double outputScale, int classAxis,
                             double agreement) {
        /** "'boxes' [1, 4420, 4]: max |diff| 1.2e-06 (scale 3.1), argmax agreement 100 % over axis 2". */
        public String line() {
            return String.format(java.util.Locale.ROOT, "'%s' %s: max |diff| %.3g (scale %.3g)%s",
                    dev.acdc.util.Text.printable(name), java.util.Arrays.toString(shape), maxAbsDiff, outputScale,
                    Double.isNaN(agreement) ? "" : String.format(java.util.Locale.ROOT,
                            ", argmax agreement %.1f %% over axis %d", 100 * agreement, classAxis));
        }
    }

    /** One output of a run: its name, shape and values. */
    public record Output(String name, long[] shape, float[] values) {
    }

    /** The sessions of a probe: CPU, one thread, basic optimisation (constant folding included). */
    public static final Sessions.Config CONFIG = new Sessions.Config(Provider.CPU, false, 1,
            OrtSession.SessionOptions.OptLevel.BASIC_OPT);

    private Probe() {
    }

    /**
     * The probe batch's shape for model {@code m} whose input shape (batch included) is {@code inputShape}: two
     * samples where the model's batch is open, so batch-mixing bugs show; the declared batch where it is fixed (a
     * model exported for a device takes exactly one).
     */
    public static long[] shape(dev.acdc.ir.Model m, long[] inputShape) {
        long[] shape = inputShape.clone();
        long[] declared = m.graph().dataInputs().isEmpty() ? null : m.graph().dataInputs().get(0).shape();
        if (declared != null && declared.length > 0 && declared[0] < 0) {
            shape[0] = 2;
        }
        return shape;
    }

    /**
     * Runs a session on float input {@code x} of {@code shape} for its first input; returns the first output
     * flattened. Any further input (a gain, a length, a flag beside the image) gets ones of its declared shape, its
     * open dimensions taken as the batch (first) or 1, so two models probed alike see the same inputs.
     */
    public static float[] run(OrtSession s, float[] x, long[] shape) {
        List<Output> outs = runAll(s, x, shape, false);
        if (outs.isEmpty()) {
            throw new AcdcException("the model's first output is not a float tensor; acdc compares float outputs");
        }
        return outs.get(0).values();
    }

    private static List<String> namesOf(OrtSession.Result r) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
            names.add(e.getKey());
        }
        return names;
    }

    /** As {@link #run}, every float output (or only the first, {@code all} false), with its shape. */
    public static List<Output> runAll(OrtSession s, float[] x, long[] shape, boolean all) {
        List<OnnxTensor> extra = new ArrayList<>();
        try (OnnxTensor t = Sessions.floatInput(FloatBuffer.wrap(x), shape, firstInputType(s))) {
            Map<String, OnnxTensor> feed = new java.util.LinkedHashMap<>();
            java.util.Iterator<String> names = s.getInputNames().iterator();
            feed.put(names.next(), t);
            Map<String, ai.onnxruntime.NodeInfo> info = s.getInputInfo();
            while (names.hasNext()) {
                String n = names.next();
                OnnxTensor o = ones(info.get(n), shape[0]);
                extra.add(o);
                feed.put(n, o);
            }
            try (OrtSession.Result r = s.run(feed)) {
                List<Output> outs = new ArrayList<>();
                List<String> outNames = namesOf(r);
                for (int i = 0; i < r.size() && (all || i == 0); i++) {
                    OnnxTensor o = (OnnxTensor) r.get(i);
                    if (!Sessions.floatOutput(o.getInfo().type)) {
                        continue; // an index or a mask beside the float outputs: not compared
                    }
                    FloatBuffer fb = o.getFloatBuffer();
                    float[] f = new float[fb.remaining()];
                    fb.get(f);
                    outs.add(new Output(outNames.get(i), o.getInfo().getShape(), f));
                }
                return outs;
            }
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed to run the model: " + Sessions.firstLine(e.getMessage()));
        } finally {
            extra.forEach(OnnxTensor::close);
        }
    }

    static ai.onnxruntime.OnnxJavaType firstInputType(OrtSession s) throws OrtException {
        ai.onnxruntime.NodeInfo first = s.getInputInfo().values().iterator().next();
        return first.getInfo() instanceof ai.onnxruntime.TensorInfo ti ? ti.type : ai.onnxruntime.OnnxJavaType.FLOAT;
    }

    /** Ones (1, true) of an input's declared shape and type; open dimensions are the batch (first) or 1. */
    private static OnnxTensor ones(ai.onnxruntime.NodeInfo info, long batch) throws OrtException {
        if (!(info.getInfo() instanceof ai.onnxruntime.TensorInfo ti)) {
            throw new AcdcException("input '" + info.getName() + "' is not a tensor; acdc probes models whose inputs "
                    + "are tensors");
        }
        long[] dims = ti.getShape().clone();
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = dims[i] >= 0 ? dims[i] : i == 0 ? batch : 1;
            n *= dims[i];
        }
        var env = Sessions.env();
        return switch (ti.type) {
            case FLOAT, FLOAT16, BFLOAT16 -> {
                float[] v = new float[(int) n];
                java.util.Arrays.fill(v, 1f);
                yield Sessions.floatInput(FloatBuffer.wrap(v), dims, ti.type);
            }
            case INT64 -> {
                long[] v = new long[(int) n];
                java.util.Arrays.fill(v, 1L);
                yield OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(v), dims);
            }
            case INT32 -> {
                int[] v = new int[(int) n];
                java.util.Arrays.fill(v, 1);
                yield OnnxTensor.createTensor(env, java.nio.IntBuffer.wrap(v), dims);
            }
            case BOOL -> {
                boolean[] v = new boolean[(int) n];
                java.util.Arrays.fill(v, true);
                yield OnnxTensor.createTensor(env, OrtUtil.reshape(v, dims));
            }
            default -> throw new AcdcException("input '" + info.getName() + "' is " + ti.type + "; acdc probes "
                    + "extra inputs of float, int64, int32 or bool");
        };
    }

    /** One output of both models compared: differences, scale, argmax agreement over its class axis. */
    /**
     * |a − b|, where a non-finite value of the original that the candidate repeats (NaN for NaN, the same
     * infinity) is no difference — a model that itself outputs NaN is reproduced by NaN — and a non-finite value
     * on one side only is an infinite one.
     */
    static double difference(float a, float b) {
        if (Float.isFinite(a) && Float.isFinite(b)) {
            return Math.abs((double) a - b);
        }
        return Float.isNaN(a) && Float.isNaN(b) || a == b ? 0 : Double.POSITIVE_INFINITY;
    }

    /** |a| of a finite value, 0 of a non-finite one: the scale of an output is that of its finite values. */
    static double magnitude(float a) {
        return Float.isFinite(a) ? Math.abs(a) : 0;
    }

    static OutputDiff diff(Output a, Output b) {
        if (a.values().length != b.values().length) {
            throw new AcdcException("the models' output '" + dev.acdc.util.Text.printable(a.name()) + "' differs in size: "
                    + a.values().length + " vs " + b.values().length);
        }
        double max = 0;
        double scale = 0;
        for (int i = 0; i < a.values().length; i++) {
            max = Math.max(max, difference(a.values()[i], b.values()[i]));
            scale = Math.max(scale, magnitude(a.values()[i]));
        }
        long[] sh = a.shape();
        int axis = sh.length == 4 ? 1 : sh.length - 1;
        if (axis < 1 || sh[axis] < 2) {
            return new OutputDiff(a.name(), sh, max, scale, axis, Double.NaN);
        }
        long classes = sh[axis];
        long inner = 1;
        for (int i = axis + 1; i < sh.length; i++) {
            inner *= sh[i];
        }
        long outer = a.values().length / (classes * inner);
        long agree = 0;
        for (long o = 0; o < outer; o++) {
            for (long in = 0; in < inner; in++) {
                int ba = 0;
                int bb = 0;
                for (int c = 1; c < classes; c++) {
                    int idx = (int) ((o * classes + c) * inner + in);
                    int ia = (int) ((o * classes + ba) * inner + in);
                    int ib = (int) ((o * classes + bb) * inner + in);
                    if (a.values()[idx] > a.values()[ia]) {
                        ba = c;
                    }
                    if (b.values()[idx] > b.values()[ib]) {
                        bb = c;
                    }
                }
                agree += ba == bb ? 1 : 0;
            }
        }
        return new OutputDiff(a.name(), sh, max, scale, axis, (double) agree / (outer * inner));
    }

    public static float[] randomInput(long[] shape, long seed) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        Random r = new Random(seed);
        float[] f = new float[(int) n];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextGaussian();
        }
        return f;
    }

    public static Comparison compare(byte[] a, byte[] b, long[] shape, long seed) {
        float[] x = randomInput(shape, seed);
        // basic optimisation (constant folding included) is all a correctness probe needs; the two
        // sessions are created and run side by side
        Sessions.Config cfg = CONFIG;
        java.util.concurrent.CompletableFuture<List<Output>> fa = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (Sessions.Opened sa = Sessions.open(a, cfg, s -> { })) {
                return runAll(sa.session(), x, shape, true);
            }
        });
        List<Output> outsB;
        try (Sessions.Opened sb = Sessions.open(b, cfg, s -> { })) {
            outsB = runAll(sb.session(), x, shape, true);
        } catch (RuntimeException e) {
            // the other session must finish before the error ends the command: a JVM exiting while ONNX Runtime
            // still runs it aborts in native code (exit 134, no message)
            try {
                fa.join();
            } catch (RuntimeException ignored) {
                // the first failure is the one reported
            }
            throw e;
        }
        List<Output> outsA;
        try {
            outsA = fa.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
        if (outsA.isEmpty() || outsA.size() != outsB.size()) {
            throw new AcdcException("the models have " + outsA.size() + " and " + outsB.size() + " float outputs");
        }
        float[] ya = outsA.get(0).values();
        float[] yb = outsB.get(0).values();
        List<OutputDiff> diffs = new ArrayList<>();
        for (int k = 0; k < outsA.size(); k++) {
            diffs.add(diff(outsA.get(k), outsB.get(k)));
        }
        if (ya.length != yb.length) {
            throw new AcdcException("the models' outputs differ in size: " + ya.length + " vs " + yb.length);
        }
        double max = 0;
        double sum = 0;
        double scale = 0;
        for (int i = 0; i < ya.length; i++) {
            double d = difference(ya[i], yb[i]);
            max = Math.max(max, d);
            sum += d;
            scale = Math.max(scale, magnitude(ya[i]));
        }
        int batch = (int) shape[0];
        int classes = ya.length / batch;
        int agree = 0;
        for (int i = 0; i < batch; i++) {
            agree += Validator.agree(Validator.argmax(ya, i * classes, classes), Validator.argmax(yb, i * classes, classes)) ? 1 : 0;
        }
        return new Comparison(shape, max, sum / ya.length, scale, (double) agree / batch, x, yb, List.copyOf(diffs));
    }
}
