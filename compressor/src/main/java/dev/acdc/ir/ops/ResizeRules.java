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

/** Resize (opset 11 on). */
public final class ResizeRules {
    private ResizeRules() {
    }

    static List<OperatorRule> rules() {
        return List.of(OperatorRule.of("Resize", 1, 4, 1, 1,
                (c, n) -> c.set(n, 0, c.typeIn(n, 0), resizedShape(c, n), null)));
    }

    /**
     * Resize's output shape (opset 11+: X, roi, scales, sizes): the constant {@code sizes}, else
     * {@code floor(x · scales)} with constant scales.
     */
    static long[] resizedShape(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        if (c.opset() < 11) {
            throw new AcdcException("Resize '" + n.label() + "' is opset " + c.opset() + "'s form (X, scales); acdc reads "
                    + "Resize from opset 11 on: re-export the model at opset 11 or later");
        }
        if (n.inputs().size() > 3 && !n.input(3).isEmpty()) {
            Facts f = c.in(n, 3);
            if (f.ints() == null) {
                throw new AcdcException("node '" + n.label() + "': the sizes ('" + n.input(3) + "') are computed at run "
                        + "time from values acdc cannot follow; acdc needs them constant or derived from shapes");
            }
            long[] sizes = f.ints().clone(); // an entry from a symbolic dimension (the batch) stays unknown: -1
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = sizes[i] == ShapeInference.UNKNOWN || sizes[i] < 0 ? -1 : sizes[i];
            }
            if (sizes.length != x.length) {
                throw new AcdcException("Resize '" + n.label() + "': sizes " + Arrays.toString(sizes) + " for rank "
                        + x.length);
            }
            return sizes.clone();
        }
        float[] scales = c.constantFloats(n, 2, "the scales");
        if (scales == null || scales.length != x.length) {
            throw new AcdcException("Resize '" + n.label() + "' needs constant scales or sizes, one per dimension");
        }
        long[] y = new long[x.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = x[i] < 0 ? -1 : (long) Math.floor(x[i] * (double) scales[i]);
        }
        return y;
    }
}
