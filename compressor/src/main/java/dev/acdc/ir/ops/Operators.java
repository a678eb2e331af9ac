package dev.acdc.ir.ops;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The registry of every operator acdc has a rule for, gathered from the family files. */
public final class Operators {
    private static final Map<String, OperatorRule> RULES;

    static {
        Map<String, OperatorRule> m = new TreeMap<>();
        List<OperatorRule> all = new ArrayList<>();
        all.addAll(ConvolutionRules.rules());
        all.addAll(ElementwiseRules.rules());
        all.addAll(TensorRules.rules());
        all.addAll(MatrixRules.rules());
        all.addAll(ReduceRules.rules());
        all.addAll(ResizeRules.rules());
        all.addAll(QuantizeRules.rules());
        for (OperatorRule r : all) {
            if (m.put(r.op(), r) != null) {
                throw new IllegalStateException("two rules for " + r.op());
            }
        }
        RULES = Collections.unmodifiableMap(m);
    }

    private Operators() {
    }

    /** The rule of {@code op} (default domain), or null. */
    public static OperatorRule of(String op) {
        return RULES.get(op);
    }

    /** Every operator with a rule, sorted. */
    public static Set<String> names() {
        return RULES.keySet();
    }
}
