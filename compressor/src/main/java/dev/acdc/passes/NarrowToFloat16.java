package dev.acdc.passes;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a widened model ({@link WidenFloat16}) back as it came. With {@code weights}, the graph computes in
 * float16 again: every FLOAT weight, Constant and ConstantOfShape value becomes FLOAT16 (rounded to the nearest
 * half), every Cast to FLOAT a Cast to FLOAT16, value infos FLOAT16 — except the scales and regions of interest
 * of Resize and Upsample, which ONNX types as float. Without {@code weights} (an int8 model, whose
 * DequantizeLinear computes float) the graph stays float32. Either way the interface is the original's: an input
 * or output that was FLOAT16 is FLOAT16 again, the others keep FLOAT, a Cast bridging each where the interior
 * differs. Requires a well-formed graph of FLOAT values; ensures it is well-formed.
 */
public final class NarrowToFloat16 implements Pass {
    private final WidenFloat16.Origin origin;
    private final boolean weights;

    public NarrowToFloat16(WidenFloat16.Origin origin, boolean weights) {
        this.origin = origin;
        this.weights = weights;
    }

    @Override
    public String name() {
        return "narrow-float16";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = weights ? narrowInterior(g) : 0;
        DataType interior = weights ? DataType.FLOAT16 : DataType.FLOAT;
        dev.acdc.ir.GraphBuilder names = new dev.acdc.ir.GraphBuilder(g); // fresh value and node names
        int inserted = 0;
        for (int i = 0; i < g.inputs().size(); i++) {
            ValueInfo v = g.inputs().get(i);
            DataType was = origin.inputs().get(v.name());
            if (was == null || v.elemType() != DataType.FLOAT) {
                continue;
            }
            if (was == interior) {
                g.inputs().set(i, new ValueInfo(v.name(), interior, v.dims(), null));
            } else if (was == DataType.FLOAT || was == DataType.FLOAT16) {
                String cast = names.fresh(v.name() + "_" + interior.name().toLowerCase(java.util.Locale.ROOT));
                g.replaceUses(v.name(), cast);
                g.nodes().add(inserted++, new Node(names.fresh("acdc_cast_" + v.name()), "Cast", List.of(v.name()),
                        List.of(cast), List.of(Attribute.ofInt("to", interior.code()))));
                g.inputs().set(i, new ValueInfo(v.name(), was, v.dims(), null));
            }
            changed++;
        }
        for (int i = 0; i < g.outputs().size(); i++) {
            ValueInfo v = g.outputs().get(i);
            DataType was = origin.outputs().get(v.name());
            if (was == null || v.elemType() != DataType.FLOAT || g.producer(v.name()) == null) {
                continue; // (an output no node computes, e.g. a graph input passed through, keeps its declaration)
            }
            if (was == interior) {
                g.outputs().set(i, new ValueInfo(v.name(), interior, v.dims(), null));
            } else if (was == DataType.FLOAT || was == DataType.FLOAT16) {
                // the interior value gets a new name; a Cast computes the output under its own name
                String inner = names.fresh(v.name() + "_" + interior.name().toLowerCase(java.util.Locale.ROOT));
                for (Node n : g.nodes()) {
                    n.replaceInput(v.name(), inner);
                    for (int k = 0; k < n.outputs().size(); k++) {
                        if (n.output(k).equals(v.name())) {
                            n.setOutput(k, inner);
                        }
                    }
                }
                g.nodes().add(new Node(names.fresh("acdc_cast_" + v.name()), "Cast", List.of(inner), List.of(v.name()),
                        List.of(Attribute.ofInt("to", was.code()))));
                g.outputs().set(i, new ValueInfo(v.name(), was, v.dims(), null));
            }
            changed++;
        }
        return changed;
    }

    /** Every float weight, constant, Cast target and value info of the graph's interior to FLOAT16. */
    private static int narrowInterior(Graph g) {
        Set<String> stayFloat = new HashSet<>(); // ONNX types these as float whatever the data's type
        for (Node n : g.nodes()) {
            if (n.is("Resize")) {
                for (int i = 1; i <= 2 && i < n.inputs().size(); i++) {
                    stayFloat.add(n.input(i));
                }
            } else if (n.is("Upsample") && n.inputs().size() > 1) {
                stayFloat.add(n.input(1));
            }
        }
        int changed = 0;
        for (Tensor t : List.copyOf(g.initializers().values())) {
            if (t.type() == DataType.FLOAT && !stayFloat.contains(t.name())) {
                g.putInitializer(Tensor.ofFloat16(t.name(), t.shape(), t.floats()));
                changed++;
            }
        }
        for (Node n : g.nodes()) {
            if (n.is("Cast") && n.attrInt("to", 1) == DataType.FLOAT.code()) {
                n.setAttribute(Attribute.ofInt("to", DataType.FLOAT16.code()));
                changed++;
            } else if (n.is("ConstantOfShape")) {
                Attribute v = n.attribute("value");
                if (v == null) { // the default is float 0
                    n.setAttribute(Attribute.ofTensor("value", Tensor.ofFloat16("", new long[] {1}, new float[] {0})));
                    changed++;
                } else if (v.asTensor().type() == DataType.FLOAT) {
                    n.setAttribute(Attribute.ofTensor("value", Tensor.ofFloat16(v.asTensor().name(),
                            v.asTensor().shape(), v.asTensor().floats())));
                    changed++;
                }
            } else if (n.is("Constant") && !n.outputs().isEmpty() && !stayFloat.contains(n.output(0))) {
                Attribute v = n.attribute("value");
                Attribute one = n.attribute("value_float");
                Attribute many = n.attribute("value_floats");
                if (v != null && v.kind() == Attribute.Kind.TENSOR && v.asTensor().type() == DataType.FLOAT) {
                    n.setAttribute(Attribute.ofTensor("value", Tensor.ofFloat16(v.asTensor().name(),
                            v.asTensor().shape(), v.asTensor().floats())));
                    changed++;
                } else if (one != null || many != null) {
                    float[] f = one != null ? new float[] {one.asFloat()} : many.asFloats();
                    n.removeAttribute(one != null ? "value_float" : "value_floats");
                    n.setAttribute(Attribute.ofTensor("value", Tensor.ofFloat16("",
                            one != null ? new long[0] : new long[] {f.length}, f)));
                    changed++;
                }
            }
        }
        List<ValueInfo> vi = g.valueInfo();
        for (int i = 0; i < vi.size(); i++) {
            ValueInfo v = vi.get(i);
            if (v.elemType() == DataType.FLOAT && !stayFloat.contains(v.name())) {
                vi.set(i, new ValueInfo(v.name(), DataType.FLOAT16, v.dims(), null));
            }
        }
        return changed;
    }
}
