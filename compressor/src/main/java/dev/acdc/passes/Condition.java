package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.ValueInfo;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

/**
 * A checkable property of a model: what a {@link Pass} requires before it runs and ensures after.
 * {@link #violation} returns null when the property holds, else a sentence saying where it breaks.
 */
public record Condition(String name, Function<Model, String> check) {

    public String violation(Model m) {
        return check.apply(m);
    }

    /** Every node input is defined before use (topological order) and every value has one producer. */
    public static final Condition WELL_FORMED = new Condition("well-formed", m -> {
        Graph g = m.graph();
        Set<String> defined = new HashSet<>(g.initializers().keySet());
        for (ValueInfo v : g.inputs()) {
            defined.add(v.name());
        }
        for (Node n : g.nodes()) {
            for (String i : n.inputs()) {
                if (!i.isEmpty() && !defined.contains(i)) {
                    return "node '" + n.label() + "' reads '" + i + "' before anything defines it";
                }
            }
            for (String o : n.outputs()) {
                if (!o.isEmpty() && !defined.add(o)) {
                    return "value '" + o + "' is defined twice (again by '" + n.label() + "')";
                }
            }
        }
        for (ValueInfo v : g.outputs()) {
            if (!defined.contains(v.name())) {
                return "graph output '" + v.name() + "' is not defined";
            }
        }
        return null;
    });

    /** No Identity or Dropout node is left. */
    public static final Condition NO_IDENTITY = new Condition("no Identity/Dropout", m -> {
        for (Node n : m.graph().nodes()) {
            if ((n.is("Identity") || n.is("Dropout")) && !m.graph().isGraphOutput(n.output(0))) {
                return "node '" + n.label() + "' is an " + n.opType();
            }
        }
        return null;
    });

    /** No node reads an Identity of an initializer: weights are read directly. */
    public static final Condition NO_IDENTITY_OF_INITIALIZER = new Condition("initializers read directly", m -> {
        for (Node n : m.graph().nodes()) {
            if (n.is("Identity") && m.graph().isInitializer(n.input(0)) && !m.graph().isGraphOutput(n.output(0))) {
                return "Identity '" + n.label() + "' forwards initializer '" + n.input(0) + "'";
            }
        }
        return null;
    });

    /** No Constant node, and no node whose outputs inference can compute from constants. */
    public static final Condition NO_FOLDABLE_CONSTANTS = new Condition("constant subgraphs folded", m -> {
        var facts = ShapeInference.infer(m);
        for (Node n : m.graph().nodes()) {
            if (n.is("Constant")) {
                return "Constant node '" + n.label() + "' remains";
            }
            if (FoldConstants.foldable(n, facts)) {
                return "node '" + n.label() + "' computes a constant";
            }
        }
        return null;
    });

    /** No BatchNormalization directly follows a Conv whose output only it reads. */
    public static final Condition NO_FOLDABLE_BATCHNORM = new Condition("BatchNormalization folded into Conv", m -> {
        for (Node n : m.graph().nodes()) {
            if (FoldBatchNorm.foldableConv(m.graph(), n) != null) {
                return "BatchNormalization '" + n.label() + "' follows a Conv it could be folded into";
            }
        }
        return null;
    });
}
