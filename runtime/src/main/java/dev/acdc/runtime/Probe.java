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
                             double agreement, float[] input, float[] candidateOutput) {
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
        List<OnnxTensor> extra = new ArrayList<>();
        try (OnnxTensor t = OnnxTensor.createTensor(Sessions.env(), FloatBuffer.wrap(x), shape)) {
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
                FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                float[] f = new float[fb.remaining()];
                fb.get(f);
                return f;
            }
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed to run the model: " + Sessions.firstLine(e.getMessage()));
        } finally {
            extra.forEach(OnnxTensor::close);
        }
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
            case FLOAT -> {
                float[] v = new float[(int) n];
                java.util.Arrays.fill(v, 1f);
                yield OnnxTensor.createTensor(env, FloatBuffer.wrap(v), dims);
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
        java.util.concurrent.CompletableFuture<float[]> fa = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (Sessions.Opened sa = Sessions.open(a, cfg, s -> { })) {
                return run(sa.session(), x, shape);
            }
        });
        float[] yb;
        try (Sessions.Opened sb = Sessions.open(b, cfg, s -> { })) {
            yb = run(sb.session(), x, shape);
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
        float[] ya;
        try {
            ya = fa.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
        if (ya.length != yb.length) {
            throw new AcdcException("the models' outputs differ in size: " + ya.length + " vs " + yb.length);
        }
        double max = 0;
        double sum = 0;
        double scale = 0;
        for (int i = 0; i < ya.length; i++) {
            double d = Math.abs(ya[i] - yb[i]);
            max = Math.max(max, d);
            sum += d;
            scale = Math.max(scale, Math.abs(ya[i]));
        }
        int batch = (int) shape[0];
        int classes = ya.length / batch;
        int agree = 0;
        for (int i = 0; i < batch; i++) {
            agree += Validator.agree(Validator.argmax(ya, i * classes, classes), Validator.argmax(yb, i * classes, classes)) ? 1 : 0;
        }
        return new Comparison(shape, max, sum / ya.length, scale, (double) agree / batch, x, yb);
    }
}
