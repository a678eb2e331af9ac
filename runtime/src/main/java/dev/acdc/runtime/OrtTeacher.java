package dev.acdc.runtime;

import dev.acdc.train.Teacher;

/** The distillation teacher run by ONNX Runtime in the same process. */
public final class OrtTeacher implements Teacher, AutoCloseable {
    private final ModelIO model;
    private final byte[] onnx;

    public OrtTeacher(byte[] onnx, Sessions.Config cfg, java.util.function.Consumer<String> notice) {
        this.model = new ModelIO(onnx, cfg, notice);
        this.onnx = onnx;
    }

    /** The teacher's graph, parsed afresh; null when it cannot be (e.g. weights in external files). */
    @Override
    public dev.acdc.ir.Model model() {
        try {
            return dev.acdc.onnx.OnnxModels.fromBytes(onnx, null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    public ModelIO io() {
        return model;
    }

    @Override
    public float[] logits(float[] x, int n, long[] sampleShape) {
        int fixed = model.fixedBatch();
        if (fixed == 0 || fixed == n) {
            return model.run(x, n, sampleShape);
        }
        // a fixed-batch teacher runs chunk by chunk, the last one padded
        int per = x.length / n;
        float[] out = null;
        int classes = 0;
        for (int s = 0; s < n; s += fixed) {
            int m = Math.min(fixed, n - s);
            float[] chunk = new float[fixed * per];
            System.arraycopy(x, s * per, chunk, 0, m * per);
            float[] y = model.run(chunk, fixed, sampleShape);
            if (out == null) {
                classes = y.length / fixed;
                out = new float[n * classes];
            }
            System.arraycopy(y, 0, out, s * classes, m * classes);
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
    }
}
