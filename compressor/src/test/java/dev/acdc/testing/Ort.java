package dev.acdc.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;

/** Runs models in ONNX Runtime (CPU) for tests: the independent oracle of numerical equality. */
public final class Ort {
    private Ort() {
    }

    public static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment();
    }

    /** Runs a serialized model on one float input; returns the first output, flattened. */
    public static float[] run(byte[] model, float[] input, long[] shape) {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(2);
            try (OrtSession s = env().createSession(model, o)) {
                String in = s.getInputNames().iterator().next();
                // a float16 input gets ONNX Runtime's own conversion of the floats
                boolean half = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(in).getInfo()).type
                        == ai.onnxruntime.OnnxJavaType.FLOAT16;
                try (OnnxTensor t = half ? OnnxTensor.createTensor(env(), ai.onnxruntime.platform.Fp16Conversions
                        .convertFloatBufferToFp16Buffer(FloatBuffer.wrap(input)), shape, ai.onnxruntime.OnnxJavaType.FLOAT16)
                        : OnnxTensor.createTensor(env(), FloatBuffer.wrap(input), shape);
                     OrtSession.Result r = s.run(Map.of(in, t))) {
                    OnnxTensor out = (OnnxTensor) r.get(0);
                    FloatBuffer fb = out.getFloatBuffer();
                    float[] f = new float[fb.remaining()];
                    fb.get(f);
                    return f;
                }
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /** Runs a model on n samples in chunks of {@code batch} with one session; returns the outputs concatenated. */
    public static float[] runBatched(byte[] model, float[] input, long[] sampleShape, int n, int batch) {
        int per = input.length / n;
        float[] out = null;
        int classes = 0;
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            try (OrtSession s = env().createSession(model, o)) {
                String in = s.getInputNames().iterator().next();
                for (int start = 0; start < n; start += batch) {
                    int m = Math.min(batch, n - start);
                    long[] shape = new long[sampleShape.length + 1];
                    shape[0] = m;
                    System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
                    FloatBuffer fb = FloatBuffer.wrap(input, start * per, m * per).slice();
                    try (OnnxTensor t = OnnxTensor.createTensor(env(), fb, shape);
                         OrtSession.Result r = s.run(Map.of(in, t))) {
                        FloatBuffer y = ((OnnxTensor) r.get(0)).getFloatBuffer();
                        if (out == null) {
                            classes = y.remaining() / m;
                            out = new float[n * classes];
                        }
                        y.get(out, start * classes, m * classes);
                    }
                }
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime failed: " + e.getMessage(), e);
        }
        return out;
    }

    public static float[] run(Model m, float[] input, long[] shape) {
        return run(OnnxModels.toBytes(m), input, shape);
    }

    public static float[] randomInput(long[] shape, long seed) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        Random r = new Random(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) r.nextGaussian();
        }
        return f;
    }

    /** max |a-b| / max(1, max |a|): a difference relative to the output's scale. */
    public static double relDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("output sizes differ: " + a.length + " vs " + b.length);
        }
        double md = 0;
        double scale = 1;
        for (int i = 0; i < a.length; i++) {
            md = Math.max(md, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return md / scale;
    }

    public static double maxAbsDiff(float[] a, float[] b) {
        double md = 0;
        for (int i = 0; i < a.length; i++) {
            md = Math.max(md, Math.abs(a[i] - b[i]));
        }
        return md;
    }

    /** The model's input shape with the symbolic batch set to {@code batch}. */
    public static long[] inputShape(Model m, int batch) {
        long[] s = m.graph().dataInputs().get(0).shape();
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 0) {
                s[i] = batch;
            }
        }
        return s;
    }
}
