package dev.acdc.ir.ops;

import dev.acdc.ir.OperatorRule;
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

/** ReduceMean and ReduceMax (axes an attribute before opset 18, an input from 18). */
public final class ReduceRules {
    private ReduceRules() {
    }

    static List<OperatorRule> rules() {
        return List.of(OperatorRule.of("ReduceMean", 1, 2, 1, 1, ReduceRules::reduce),
                OperatorRule.of("ReduceMax", 1, 2, 1, 1, ReduceRules::reduce));
    }

    static void reduce(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] axes = c.opset() >= 18 ? (n.inputs().size() > 1 && !n.input(1).isEmpty() ? c.constInts(n, 1, "the axes")
                : null) : n.attrInts("axes", null);
        boolean keep = n.attrInt("keepdims", 1) != 0;
        if (axes == null && c.opset() >= 18 && n.attrInt("noop_with_empty_axes", 0) != 0) {
            c.set(n, 0, c.typeIn(n, 0), x, null);
            return;
        }
        boolean[] reduced = new boolean[x.length];
        for (int i = 0; i < x.length; i++) {
            reduced[i] = axes == null;
        }
        for (long a : axes == null ? new long[0] : axes) {
            reduced[(int) (a < 0 ? a + x.length : a)] = true;
        }
        List<Long> y = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (!reduced[i]) {
                y.add(x[i]);
            } else if (keep) {
                y.add(1L);
            }
        }
        c.set(n, 0, c.typeIn(n, 0), y.stream().mapToLong(Long::longValue).toArray(), null);
    }


}
