package dev.acdc.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.acdc.AcdcException;

import java.util.Arrays;
import java.util.Map;

/**
 * One model's session with its input and output described, and a reusable direct input buffer:
 * runs float batches and returns the first output flattened.
 */
public final class ModelIO implements AutoCloseable {
    private final Sessions.Opened opened;
    private final String inputName;
    private final long[] inputShape;
    private final ai.onnxruntime.OnnxJavaType inputType;
    private final long[] outputShape;
    private final DirectFloats input = new DirectFloats();

    public ModelIO(byte[] model, Sessions.Config cfg, java.util.function.Consumer<String> notice) {
        this.opened = Sessions.open(model, cfg, notice);
        try {
            OrtSession s = opened.session();
            Map<String, NodeInfo> ins = s.getInputInfo();
            if (ins.size() != 1) {
                throw new AcdcException("the model has " + ins.size() + " inputs; acdc evaluates single-input models");
            }
            var e = ins.entrySet().iterator().next();
            inputName = e.getKey();
            if (!(e.getValue().getInfo() instanceof TensorInfo ti)) {
                throw new AcdcException("the model's input '" + inputName + "' is not a tensor");
            }
            inputShape = ti.getShape();
            inputType = ti.type;
            NodeInfo out = s.getOutputInfo().values().iterator().next();
            outputShape = out.getInfo() instanceof TensorInfo to ? to.getShape() : new long[0];
        } catch (OrtException ex) {
            opened.close();
            throw new AcdcException("ONNX Runtime cannot describe the model: " + Sessions.firstLine(ex.getMessage()));
        }
    }

    public String provider() {
        return opened.provider();
    }

    /** Declared input shape; -1 for symbolic dims. */
    public long[] inputShape() {
        return inputShape.clone();
    }

    public long[] outputShape() {
        return outputShape.clone();
    }

    /** The batch size the model is fixed to, or 0 when its batch is symbolic. */
    public int fixedBatch() {
        return inputShape.length > 0 && inputShape[0] > 0 ? (int) inputShape[0] : 0;
    }

    /** Runs {@code n} samples of {@code perSample} floats each; returns the first output flattened. */
    public float[] run(float[] x, int n, long[] sampleShape) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = n;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        try (OnnxTensor t = Sessions.floatInput(input.holding(x, 0, x.length), shape, inputType);
             OrtSession.Result r = opened.session().run(Map.of(inputName, t))) {
            return DirectFloats.floats((OnnxTensor) r.get(0));
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed on a batch of shape " + Arrays.toString(shape) + ": "
                    + Sessions.firstLine(e.getMessage()));
        }
    }

    @Override
    public void close() {
        opened.close();
    }
}
