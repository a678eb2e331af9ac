package dev.acdc.passes;

import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Folds constant subgraphs into initializers: Constant nodes, and every integer-valued node of an
 * operator its rule marks {@code foldable} (ir/ops) whose result shape inference computes completely — the Shape → Gather → Unsqueeze → Concat → Reshape
 * chains of PyTorch exports when the input shape is fixed. Input shapes come from the graph's
 * declared inputs. Ensures no Constant node and no computable integer node is left (except ones
 * naming graph outputs); removes what becomes dead.
 */
public final class FoldConstants implements Pass {
    @Override
    public String name() {
        return "fold-constants";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, Condition.NO_FOLDABLE_CONSTANTS);
    }

    /** Whether inference knows every value of every output of this integer-valued node. */
    static boolean foldable(Node n, Map<String, ShapeInference.Facts> facts) {
        dev.acdc.ir.OperatorRule rule = n.isDefaultDomain() ? dev.acdc.ir.Operators.of(n.opType()) : null;
        if (rule == null || !rule.foldable()) {
            return false;
        }
        for (String o : n.outputs()) {
            ShapeInference.Facts f = facts.get(o);
            if (f == null || !f.fullyKnownInts() || !f.shapeKnown() || f.type() == DataType.FLOAT || f.type() == DataType.FLOAT16
                    || f.type() == DataType.DOUBLE || !f.type().isNumeric()) {
                return false;
            }
        }
        // a node that only forwards an initializer is the identity passes' business
        return !(n.inputs().size() == 1 && n.is("Identity"));
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = 0;
        for (Node n : Rewrites.snapshot(g)) {
            if (n.is("Constant") && !g.isGraphOutput(n.output(0))) {
                g.putInitializer(ShapeInference.constantValue(n).withName(n.output(0)));
                g.nodes().remove(n);
                changed++;
            }
        }
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        for (Node n : Rewrites.snapshot(g)) {
            if (!foldable(n, facts) || isAnyGraphOutput(g, n)) {
                continue;
            }
            for (String o : n.outputs()) {
                ShapeInference.Facts f = facts.get(o);
                g.putInitializer(Tensor.ofLongs(o, f.type(), f.shape(), f.ints().clone()));
            }
            g.nodes().remove(n);
            changed++;
        }
        changed += Rewrites.removeDeadNodes(g);
        return changed;
    }

    private static boolean isAnyGraphOutput(Graph g, Node n) {
        for (String o : n.outputs()) {
            if (g.isGraphOutput(o)) {
                return true;
            }
        }
        return false;
    }
}
