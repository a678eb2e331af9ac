package dev.acdc.passes;

import dev.acdc.ir.Model;
import dev.acdc.ir.Node;

import java.util.List;

/**
 * Removes Identity and inference-mode Dropout nodes: readers of their output read their input.
 * Requires a well-formed graph; ensures no Identity/Dropout is left except one that names a graph
 * output (renaming outputs would change the model's interface) or a Dropout whose mask is read.
 */
public final class DropIdentity implements Pass {
    @Override
    public String name() {
        return "drop-identity";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, Condition.NO_IDENTITY);
    }

    @Override
    public int run(Model m) {
        int changed = 0;
        for (Node n : Rewrites.snapshot(m.graph())) {
            if ((n.is("Identity") || n.is("Dropout")) && Rewrites.bypass(m.graph(), n)) {
                changed++;
            }
        }
        m.graph().removeUnusedInitializers();
        return changed;
    }
}
