package dev.acdc.ir.ops;

import dev.acdc.ir.OperatorRule;
import dev.acdc.ir.Operators;

import java.util.ArrayList;
import java.util.List;

/** The operator rules acdc ships, gathered from the family files; registered as an {@link Operators.Source}. */
public final class StandardOperators implements Operators.Source {
    @Override
    public List<OperatorRule> rules() {
        List<OperatorRule> all = new ArrayList<>();
        all.addAll(ConvolutionRules.rules());
        all.addAll(ElementwiseRules.rules());
        all.addAll(TensorRules.rules());
        all.addAll(MatrixRules.rules());
        all.addAll(ReduceRules.rules());
        all.addAll(ResizeRules.rules());
        all.addAll(QuantizeRules.rules());
        return all;
    }
}
