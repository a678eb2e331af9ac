package dev.acdc.passes;

import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Raises the default-domain opset to at least {@code target} (13, where the compact export's ops
 * have the form it writes), converting the CNN operators whose signature changed on the way: attribute
 * inputs of Unsqueeze/Squeeze (&lt;13), Slice (&lt;10), Pad and Clip (&lt;11) become initializer inputs;
 * Dropout loses ratio/is_test; BatchNormalization loses spatial/is_test/consumed_inputs; Softmax and
 * LogSoftmax before 13 are kept only when their axis is the last (where old and new semantics agree).
 * Ensures the opset is at least the target and the IR version at least 7.
 */
public final class UpgradeOpset implements Pass {
    private final long target;

    public UpgradeOpset(long target) {
        this.target = target;
    }

    @Override
    public String name() {
        return "upgrade-opset-" + target;
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, new Condition("opset >= " + target,
                m -> m.opset() >= target ? null : "opset is " + m.opset()));
    }

    @Override
    public int run(Model m) {
        long from = m.opset();
        if (from >= target) {
            return 0;
        }
        Graph g = m.graph();
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        int changed = 0;
        for (Node n : new ArrayList<>(g.nodes())) {
            GraphBuilder b = new GraphBuilder(g);
            String op = n.opType();
            if ((op.equals("Unsqueeze") || op.equals("Squeeze")) && from < 13 && n.has("axes")) {
                n.setInputs(List.of(n.input(0), b.initializer(n.label() + "_axes",
                        new long[] {n.attrInts("axes", null).length}, n.attrInts("axes", null))));
                n.removeAttribute("axes");
                changed++;
            } else if (op.equals("Slice") && from < 10) {
                long[] starts = n.attrInts("starts", null);
                long[] ends = n.attrInts("ends", null);
                long[] axes = n.attrInts("axes", null);
                List<String> ins = new ArrayList<>(List.of(n.input(0),
                        b.initializer(n.label() + "_starts", new long[] {starts.length}, starts),
                        b.initializer(n.label() + "_ends", new long[] {ends.length}, ends)));
                if (axes != null) {
                    ins.add(b.initializer(n.label() + "_axes", new long[] {axes.length}, axes));
                }
                n.setInputs(ins);
                n.removeAttribute("starts");
                n.removeAttribute("ends");
                n.removeAttribute("axes");
                changed++;
            } else if (op.equals("Pad") && from < 11) {
                long[] pads = n.attrInts("pads", n.attrInts("paddings", new long[0]));
                float value = n.attrFloat("value", 0f);
                n.setInputs(List.of(n.input(0), b.initializer(n.label() + "_pads", new long[] {pads.length}, pads),
                        b.initializer(n.label() + "_value", new long[0], new float[] {value})));
                n.removeAttribute("pads");
                n.removeAttribute("paddings");
                n.removeAttribute("value");
                changed++;
            } else if (op.equals("Clip") && from < 11) {
                List<String> ins = new ArrayList<>(List.of(n.input(0)));
                ins.add(n.has("min") ? b.initializer(n.label() + "_min", new long[0],
                        new float[] {n.attrFloat("min", 0)}) : "");
                ins.add(n.has("max") ? b.initializer(n.label() + "_max", new long[0],
                        new float[] {n.attrFloat("max", 0)}) : "");
                while (ins.size() > 1 && ins.get(ins.size() - 1).isEmpty()) {
                    ins.remove(ins.size() - 1);
                }
                n.setInputs(ins);
                n.removeAttribute("min");
                n.removeAttribute("max");
                changed++;
            } else if (op.equals("Dropout") && from < 12) {
                n.removeAttribute("ratio");
                n.removeAttribute("is_test");
                changed++;
            } else if (op.equals("BatchNormalization")) {
                for (String a : new String[] {"spatial", "is_test", "consumed_inputs", "momentum"}) {
                    if (n.has(a) && !a.equals("momentum")) {
                        n.removeAttribute(a);
                        changed++;
                    }
                }
            } else if ((op.equals("Softmax") || op.equals("LogSoftmax")) && from < 13) {
                long[] s = facts.get(n.input(0)).shape();
                long axis = n.attrInt("axis", 1);
                int rank = s == null ? -1 : s.length;
                if (rank < 0 || (axis < 0 ? axis + rank : axis) != rank - 1) {
                    throw new AcdcException(op + " '" + n.label() + "' (opset " + from + ") normalises over axes "
                            + axis + ".. of a rank-" + rank + " input; acdc can only raise it to opset " + target
                            + " when the axis is the last one");
                }
                n.setAttribute(Attribute.ofInt("axis", -1));
                changed++;
            }
        }
        m.setOpset(target);
        if (m.irVersion() < 7) {
            m.setIrVersion(7);
        }
        return changed + 1;
    }
}
