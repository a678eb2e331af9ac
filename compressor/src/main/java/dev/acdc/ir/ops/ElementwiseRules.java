package dev.acdc.ir.ops;

import dev.acdc.ir.OperatorRule;
import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.ConvTransposeGeometry;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeContext;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.ShapeInference.Facts;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Operators that keep their input's shape (activations, BatchNormalization, Clip, Exp, Sqrt, ...) and the
 * broadcasting ones (Add ... Div, Pow, Max, Min, the comparisons, Where).
 */
public final class ElementwiseRules {
    private ElementwiseRules() {
    }

    static List<OperatorRule> rules() {
        List<OperatorRule> r = new ArrayList<>();
        OperatorRule.Shape same = (c, n) -> c.set(n, 0, c.typeIn(n, 0), c.shapeIn(n, 0), null);
        for (String op : new String[] {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Abs", "Neg", "Exp",
            "Log", "Sqrt", "Reciprocal", "Tanh", "Erf", "Elu"}) {
            r.add(OperatorRule.unary(op, same));
        }
        r.add(OperatorRule.of("Pow", 2, 2, 1, 1, (c, n) -> c.set(n, 0, c.typeIn(n, 0),
                broadcast(c.shapeIn(n, 0), c.shapeIn(n, 1)), null)));
        // Max and Min of any number of inputs, broadcast together
        for (String op : new String[] {"Max", "Min"}) {
            r.add(OperatorRule.of(op, 1, Integer.MAX_VALUE, 1, 1, (c, n) -> {
                long[] y = c.shapeIn(n, 0);
                for (int i = 1; i < n.inputs().size(); i++) {
                    y = broadcast(y, c.shapeIn(n, i));
                }
                c.set(n, 0, c.typeIn(n, 0), y, null);
            }));
        }
        // comparisons give a boolean mask (of the broadcast shape), which Where or a Cast reads
        for (String op : new String[] {"Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"}) {
            r.add(OperatorRule.of(op, 2, 2, 1, 1, (c, n) -> c.set(n, 0, DataType.BOOL,
                    broadcast(c.shapeIn(n, 0), c.shapeIn(n, 1)), null)));
        }
        r.add(OperatorRule.of("Where", 3, 3, 1, 1, (c, n) -> c.set(n, 0, c.typeIn(n, 1),
                broadcast(broadcast(c.shapeIn(n, 0), c.shapeIn(n, 1)), c.shapeIn(n, 2)), null)));
        r.add(OperatorRule.unary("Softmax", same).withUpgrade(ElementwiseRules::lastAxisOnly));
        r.add(OperatorRule.unary("LogSoftmax", same).withUpgrade(ElementwiseRules::lastAxisOnly));
        r.add(OperatorRule.of("Clip", 1, 3, 1, 1, same).withUpgrade((n, from, target, g, f) -> {
            if (from >= 11) {
                return 0;
            }
            GraphBuilder b = new GraphBuilder(g);
            List<String> ins = new ArrayList<>(List.of(n.input(0)));
            ins.add(n.has("min") ? b.initializer(n.label() + "_min", new long[0], new float[] {n.attrFloat("min", 0)}) : "");
            ins.add(n.has("max") ? b.initializer(n.label() + "_max", new long[0], new float[] {n.attrFloat("max", 0)}) : "");
            while (ins.size() > 1 && ins.get(ins.size() - 1).isEmpty()) {
                ins.remove(ins.size() - 1);
            }
            n.setInputs(ins);
            n.removeAttribute("min");
            n.removeAttribute("max");
            return 1;
        }));
        r.add(OperatorRule.of("BatchNormalization", 5, 5, 1, 5, same).withUpgrade((n, from, target, g, f) -> {
            int changed = 0;
            for (String a : new String[] {"spatial", "is_test", "consumed_inputs"}) {
                if (n.has(a)) {
                    n.removeAttribute(a);
                    changed++;
                }
            }
            return changed;
        }));
        for (String op : new String[] {"Add", "Sub", "Mul", "Div"}) {
            r.add(OperatorRule.of(op, 2, 2, 1, 1, ElementwiseRules::binary).folding());
        }
        return r;
    }

    /**
     * Softmax and LogSoftmax normalised over the axes from {@code axis} on before opset 13 and over
     * {@code axis} alone from 13: the same only when it is the last axis.
     */
    static int lastAxisOnly(Node n, long from, long target, dev.acdc.ir.Graph g, java.util.Map<String, Facts> facts) {
        if (from >= 13) {
            return 0;
        }
        long[] s = facts.get(n.input(0)).shape();
        long axis = n.attrInt("axis", 1);
        int rank = s == null ? -1 : s.length;
        if (rank < 0 || (axis < 0 ? axis + rank : axis) != rank - 1) {
            throw new AcdcException(n.opType() + " '" + n.label() + "' (opset " + from + ") normalises over axes "
                    + axis + ".. of a rank-" + rank + " input; acdc can only raise it to opset " + target
                    + " when the axis is the last one");
        }
        n.setAttribute(Attribute.ofInt("axis", -1));
        return 1;
    }

    static long[] broadcast(long[] a, long[] b) {
        int r = Math.max(a.length, b.length);
        long[] y = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.length ? 1 : a[i - (r - a.length)];
            long db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da == 1) {
                y[i] = db;
            } else if (db == 1 || da == db) {
                y[i] = da;
            } else if (da < 0 || db < 0) {
                y[i] = Math.max(da, db);
            } else {
                throw new AcdcException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
            }
        }
        return y;
    }

    static void binary(ShapeContext c, Node n) {
        Facts a = c.in(n, 0);
        Facts b = c.in(n, 1);
        long[] y = broadcast(c.shapeIn(n, 0), c.shapeIn(n, 1));
        long[] ints = null;
        if (a.ints() != null && b.ints() != null && (a.ints().length == b.ints().length || a.ints().length == 1
                || b.ints().length == 1) && y.length <= 1) {
            int len = Math.max(a.ints().length, b.ints().length);
            ints = new long[len];
            for (int i = 0; i < len; i++) {
                long u = a.ints()[a.ints().length == 1 ? 0 : i];
                long v = b.ints()[b.ints().length == 1 ? 0 : i];
                if (u == ShapeInference.UNKNOWN || v == ShapeInference.UNKNOWN || n.is("Div") && v == 0) {
                    ints[i] = ShapeInference.UNKNOWN;
                    continue;
                }
                ints[i] = switch (n.opType()) {
                    case "Add" -> u + v;
                    case "Sub" -> u - v;
                    case "Mul" -> u * v;
                    default -> u / v;
                };
            }
        }
        c.set(n, 0, a.type(), y, ints);
    }
}
