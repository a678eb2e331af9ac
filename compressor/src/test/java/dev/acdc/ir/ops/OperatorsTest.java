package dev.acdc.ir.ops;

import dev.acdc.inspect.ConvInfo;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.ir.OpSchema;
import dev.acdc.ir.OperatorRule;
import dev.acdc.ir.Operators;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry is where operator knowledge lives: OpSchema's arity comes from it, and MACs are its rules'. */
class OperatorsTest {
    @Test
    void theSchemaIsTheRegistrysArity() {
        assertEquals(Operators.names(), OpSchema.supported());
        for (String op : Operators.names()) {
            OperatorRule r = Operators.of(op);
            OpSchema s = OpSchema.of(op);
            assertEquals(r.minInputs(), s.minInputs(), op);
            assertEquals(r.maxInputs(), s.maxInputs(), op);
            assertEquals(r.minOutputs(), s.minOutputs(), op);
            assertEquals(r.maxOutputs(), s.maxOutputs(), op);
            assertTrue(r.minInputs() <= r.maxInputs() && r.minOutputs() <= r.maxOutputs() && r.maxOutputs() >= 1, op);
        }
    }

    /**
     * The operators FoldConstants may replace by their values are those whose shape rules track integer
     * results (the shape arithmetic of PyTorch exports), and only those: never a Conv, a pool or a float op.
     */
    @Test
    void foldableAreTheIntegerTrackingOperators() {
        java.util.Set<String> foldable = new java.util.TreeSet<>();
        for (String op : Operators.names()) {
            if (Operators.of(op).foldable()) {
                foldable.add(op);
            }
        }
        assertEquals(new java.util.TreeSet<>(java.util.List.of("Add", "Cast", "Concat", "ConstantOfShape", "Div",
                "Gather", "Identity", "Mul", "Reshape", "Shape", "Slice", "Squeeze", "Sub", "Unsqueeze")), foldable);
    }

    /**
     * A model's MACs are the sum of its rules' MACs: the convs' (kernel size × output positions, counted by
     * hand here for the decoder's 3×3 stem at 4×4 and head at 8×8, and its ConvTranspose per 4×4 input
     * position) plus the classifier's 16·5.
     */
    @Test
    void macsComeFromTheRules() {
        Model m = ModelGenerators.withTransposedConv(3, 8, 16, 5, 1, 1);
        ModelSummary s = ModelSummary.of(m, null, 0);
        long convs = 0;
        for (ConvInfo c : s.convs()) {
            convs += c.macs();
        }
        assertEquals(16L * 3 * 9 * 16 + 16L * 16 * 9 * 16 + 16L * 16 * 9 * 64, convs);
        assertEquals(convs + 16L * 5, s.macs());
    }
}
