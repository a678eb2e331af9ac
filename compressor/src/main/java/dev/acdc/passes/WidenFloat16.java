package dev.acdc.passes;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Widens a float16 model (onnxconverter-common's float16 pass, many web and mobile models) to float32:
 * every FLOAT16 weight, Constant and ConstantOfShape value becomes the FLOAT of the same value (exact), every
 * Cast to FLOAT16 a Cast to FLOAT, the graph's FLOAT16 inputs, outputs and value infos FLOAT; then the Casts
 * that now turn a float into a float are bypassed. The fit, training and calibration then see float32 only;
 * {@link NarrowToFloat16} writes the result back as the model came ({@link Origin} remembers how).
 * Requires a well-formed graph; ensures no FLOAT16 tensor or value is left in the main graph.
 */
public final class WidenFloat16 implements Pass {
    /** How a model's interface was typed before widening: every graph input's and output's element type. */
    public record Origin(Map<String, DataType> inputs, Map<String, DataType> outputs) {
        /** The interface of {@code m}, or null where nothing in its main graph is FLOAT16 (nothing to widen). */
        public static Origin of(Model m) {
            if (!hasFloat16(m.graph())) {
                return null;
            }
            Map<String, DataType> in = new LinkedHashMap<>();
            for (ValueInfo v : m.graph().dataInputs()) {
                in.put(v.name(), v.elemType());
            }
            Map<String, DataType> out = new LinkedHashMap<>();
            for (ValueInfo v : m.graph().outputs()) {
                out.put(v.name(), v.elemType());
            }
            return new Origin(in, out);
        }

        /** "weights, inputs and outputs in float16" — what the written model gets back. */
        public String describe() {
            boolean io = inputs.containsValue(DataType.FLOAT16) || outputs.containsValue(DataType.FLOAT16);
            return "float16 weights" + (io ? ", float16 inputs and outputs" : ", float32 inputs and outputs");
        }
    }

    @Override
    public String name() {
        return "widen-float16";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        if (!hasFloat16(g)) {
            return 0;
        }
        int changed = 0;
        for (Tensor t : List.copyOf(g.initializers().values())) {
            if (t.type() == DataType.FLOAT16) {
                g.putInitializer(Tensor.ofFloats(t.name(), t.shape(), t.floats().clone()));
                changed++;
            }
        }
        for (Node n : g.nodes()) {
            for (Attribute a : List.copyOf(n.attributes().values())) {
                if (a.kind() == Attribute.Kind.TENSOR && a.asTensor().type() == DataType.FLOAT16) {
                    Tensor t = a.asTensor();
                    n.setAttribute(Attribute.ofTensor(a.name(), Tensor.ofFloats(t.name(), t.shape(), t.floats().clone())));
                    changed++;
                }
            }
            if (n.is("Cast") && n.attrInt("to", 1) == DataType.FLOAT16.code()) {
                n.setAttribute(Attribute.ofInt("to", DataType.FLOAT.code()));
                changed++;
            }
        }
        widen(g.inputs());
        widen(g.outputs());
        widen(g.valueInfo());
        // a Cast that now turns a float into a float does nothing: its readers read its input
        Map<String, ShapeInference.Facts> facts = ShapeInference.inferWhatCanBe(m, Map.of());
        for (Node n : Rewrites.snapshot(g)) {
            if (n.is("Cast") && n.attrInt("to", 1) == DataType.FLOAT.code()) {
                ShapeInference.Facts f = facts.get(n.input(0));
                if (f != null && f.type() == DataType.FLOAT && Rewrites.bypass(g, n)) {
                    changed++;
                }
            }
        }
        return changed;
    }

    private static void widen(List<ValueInfo> values) {
        for (int i = 0; i < values.size(); i++) {
            ValueInfo v = values.get(i);
            if (v.elemType() == DataType.FLOAT16) {
                values.set(i, new ValueInfo(v.name(), DataType.FLOAT, v.dims(), null));
            }
        }
    }

    static boolean hasFloat16(Graph g) {
        for (Tensor t : g.initializers().values()) {
            if (t.type() == DataType.FLOAT16) {
                return true;
            }
        }
        for (ValueInfo v : g.inputs()) {
            if (v.elemType() == DataType.FLOAT16) {
                return true;
            }
        }
        for (ValueInfo v : g.outputs()) {
            if (v.elemType() == DataType.FLOAT16) {
                return true;
            }
        }
        for (Node n : g.nodes()) {
            if (n.is("Cast") && n.attrInt("to", 1) == DataType.FLOAT16.code()) {
                return true;
            }
            for (Attribute a : n.attributes().values()) {
                if (a.kind() == Attribute.Kind.TENSOR && a.asTensor().type() == DataType.FLOAT16) {
                    return true;
                }
            }
        }
        return false;
    }
}
