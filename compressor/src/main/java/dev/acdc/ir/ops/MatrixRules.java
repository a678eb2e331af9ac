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

/** Gemm and MatMul. */
public final class MatrixRules {
    private MatrixRules() {
    }

    static List<OperatorRule> rules() {
        return List.of(
                OperatorRule.of("Gemm", 2, 3, 1, 1, (c, n) -> {
                    long[] a = c.shapeIn(n, 0);
                    long[] b = c.shapeIn(n, 1);
                    boolean ta = n.attrInt("transA", 0) != 0;
                    boolean tb = n.attrInt("transB", 0) != 0;
                    c.set(n, 0, c.typeIn(n, 0), new long[] {ta ? a[1] : a[0], tb ? b[0] : b[1]}, null);
                }).withMacs((n, f) -> {
                    long[] a = f.get(n.input(0)).shape();
                    long[] y = f.get(n.output(0)).shape();
                    long k = n.attrInt("transA", 0) != 0 ? a[0] : a[1];
                    return OperatorRule.positive(y[0]) * OperatorRule.positive(y[1]) * k;
                }),
                OperatorRule.of("MatMul", 2, 2, 1, 1, MatrixRules::matmul).withMacs((n, f) -> {
                    long[] a = f.get(n.input(0)).shape();
                    long p = a[a.length - 1];
                    for (long dim : f.get(n.output(0)).shape()) {
                        p *= OperatorRule.positive(dim);
                    }
                    return p;
                }));
    }

    static void matmul(ShapeContext c, Node n) {
        long[] a = c.shapeIn(n, 0);
        long[] b = c.shapeIn(n, 1);
        if (a.length == 1 || b.length == 1) {
            throw new AcdcException("MatMul '" + n.label() + "' with a 1-D operand is not supported");
        }
        long[] batch = ElementwiseRules.broadcast(Arrays.copyOf(a, a.length - 2), Arrays.copyOf(b, b.length - 2));
        long[] y = Arrays.copyOf(batch, batch.length + 2);
        y[batch.length] = a[a.length - 2];
        y[batch.length + 1] = b[b.length - 1];
        c.set(n, 0, c.typeIn(n, 0), y, null);
    }
}
