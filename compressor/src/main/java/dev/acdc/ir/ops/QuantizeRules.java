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

/** QuantizeLinear and DequantizeLinear: acdc writes them (int8), fine-tuning never trains through them. */
public final class QuantizeRules {
    private QuantizeRules() {
    }

    private static final String INT8 = "int8 is applied after fine-tuning (compress --quantize), never trained";

    static List<OperatorRule> rules() {
        return List.of(
                OperatorRule.of("QuantizeLinear", 2, 3, 1, 1, (c, n) -> {
                    // the output takes the zero point's type (uint8 without one)
                    Facts z = n.inputs().size() > 2 && !n.input(2).isEmpty() ? c.in(n, 2) : null;
                    c.set(n, 0, z == null ? DataType.UINT8 : z.type(), c.shapeIn(n, 0), null);
                }).notTrained(INT8),
                OperatorRule.of("DequantizeLinear", 2, 3, 1, 1,
                        (c, n) -> c.set(n, 0, c.in(n, 1).type(), c.shapeIn(n, 0), null)).notTrained(INT8));
    }


}
