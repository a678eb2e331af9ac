package dev.acdc.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.acdc.AcdcException;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.OpSchema;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.ValueInfo;
import dev.acdc.onnx.OnnxModels;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shapes acdc's rules cannot infer — of the values an operator without a rule computes, and of those
 * after it — measured in ONNX Runtime and declared in the model's value_info, so that compression passes
 * such operators through unchanged. The model runs twice, on random inputs of batch 1 and 2, with those
 * values exposed as outputs; a dimension that differs between the runs is the batch (declared symbolic). A model
 * whose input fixes the batch (a device export) runs once, at that batch.
 */
public final class MeasuredShapes {
    private MeasuredShapes() {
    }

    /**
     * Declares the measured shape of every value of {@code m} inference cannot reach, for data input shape
     * {@code inputShape} (batch first, the rest known); returns their names, none when every operator has a
     * rule. Requires one float data input.
     */
    public static List<String> declare(Model m, long[] inputShape) {
        if (OpSchema.unknownOperators(m.graph()).isEmpty()) {
            return List.of();
        }
        Map<String, ShapeInference.Facts> facts = ShapeInference.inferWhatCanBe(m, Map.of("", inputShape));
        List<String> wanted = new ArrayList<>();
        for (Node n : m.graph().nodes()) {
            for (String o : n.outputs()) {
                ShapeInference.Facts f = o.isEmpty() ? null : facts.get(o);
                if (!o.isEmpty() && (f == null || f.shape() == null || f.type() == null)) {
                    wanted.add(o);
                }
            }
        }
        if (wanted.isEmpty()) {
            return List.of();
        }
        if (m.graph().dataInputs().size() != 1) {
            throw new AcdcException("the model has operators acdc has no rule for ("
                    + OpSchema.describe(OpSchema.unknownOperators(m.graph())) + ") and " + m.graph().dataInputs().size()
                    + " data inputs; acdc measures such operators' shapes on models with one image input only");
        }
        Model exposed = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        for (String w : wanted) {
            if (!exposed.graph().isGraphOutput(w)) {
                exposed.graph().outputs().add(new ValueInfo(w, DataType.UNDEFINED, null, null));
            }
        }
        byte[] bytes = OnnxModels.toBytes(exposed);
        Map<String, long[]> one;
        Map<String, long[]> two;
        Map<String, DataType> types = new HashMap<>();
        long[] declaredShape = m.graph().dataInputs().get(0).shape();
        boolean fixedBatch = declaredShape != null && declaredShape.length > 0 && declaredShape[0] > 0;
        try (Sessions.Opened s = Sessions.open(bytes, Probe.CONFIG, q -> { })) {
            one = run(s.session(), withBatch(inputShape, fixedBatch ? declaredShape[0] : 1), wanted, types);
            // a batch the model fixes takes one run: every dimension is then as measured
            two = fixedBatch ? one : run(s.session(), withBatch(inputShape, 2), wanted, types);
        }
        Map<String, ValueInfo> declared = new LinkedHashMap<>();
        for (String w : wanted) {
            long[] a = one.get(w);
            long[] b = two.get(w);
            List<ValueInfo.Dim> dims = new ArrayList<>();
            for (int i = 0; i < a.length; i++) {
                dims.add(a.length == b.length && a[i] == b[i] ? ValueInfo.Dim.of(a[i]) : ValueInfo.Dim.symbol("N"));
            }
            declared.put(w, new ValueInfo(w, types.get(w), dims, null));
        }
        m.graph().valueInfo().removeIf(v -> declared.containsKey(v.name()));
        m.graph().valueInfo().addAll(declared.values());
        return wanted;
    }

    /** ONNX Runtime's element type (ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, ...) as acdc's. */
    static DataType type(TensorInfo.OnnxTensorType t) {
        String name = t.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "");
        try {
            return DataType.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new AcdcException("ONNX Runtime reports element type " + name + ", which acdc does not know");
        }
    }

    private static long[] withBatch(long[] shape, long batch) {
        long[] s = shape.clone();
        s[0] = batch;
        for (long d : s) {
            if (d < 1) {
                throw new AcdcException("the model's input shape " + Arrays.toString(shape) + " has unknown "
                        + "dimensions; give --input-shape to measure the shapes of the operators acdc has no rule for");
            }
        }
        return s;
    }

    private static Map<String, long[]> run(OrtSession s, long[] shape, List<String> wanted,
                                           Map<String, DataType> types) {
        float[] x = Probe.randomInput(shape, 5);
        Map<String, long[]> shapes = new HashMap<>();
        try (OnnxTensor t = Sessions.floatInput(FloatBuffer.wrap(x), shape, Probe.firstInputType(s));
             OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), t),
                     new java.util.LinkedHashSet<>(wanted))) {
            for (String w : wanted) {
                OnnxValue v = r.get(w).orElseThrow();
                if (!(v.getInfo() instanceof TensorInfo info)) {
                    throw new AcdcException("'" + w + "' is a " + v.getInfo() + ", not a tensor; acdc passes only "
                            + "tensor-valued operators through");
                }
                shapes.put(w, info.getShape());
                types.put(w, type(info.onnxType));
            }
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed to run the model to measure the shapes of the operators acdc "
                    + "has no rule for: " + Sessions.firstLine(e.getMessage()));
        }
        return shapes;
    }
}
