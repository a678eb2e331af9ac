package dev.acdc.ir.ops;

import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.ConvTransposeGeometry;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeContext;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.ShapeInference.Facts;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Operators that keep their input's shape (activations, BatchNormalization, Clip) and the broadcasting binary ones. */
public final class ElementwiseRules {
    private ElementwiseRules() {
    }

    static List<OperatorRule> rules() {
        List<OperatorRule> r = new ArrayList<>();
        OperatorRule.Shape same = (c, n) -> c.set(n, 0, c.typeIn(n, 0), c.shapeIn(n, 0), null);
        for (String op : new String[] {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Softmax",
                "LogSoftmax", "Abs"}) {
            r.add(OperatorRule.unary(op, same));
        }
        r.add(OperatorRule.of("Clip", 1, 3, 1, 1, same));
        r.add(OperatorRule.of("BatchNormalization", 5, 5, 1, 5, same));
        for (String op : new String[] {"Add", "Sub", "Mul", "Div"}) {
            r.add(OperatorRule.of(op, 2, 2, 1, 1, ElementwiseRules::binary));
        }
        return r;
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
