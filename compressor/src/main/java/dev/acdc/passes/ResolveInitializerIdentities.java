package dev.acdc.passes;

import dev.acdc.ir.Model;
import dev.acdc.ir.Node;

import java.util.List;

/**
 * Makes weights reached through {@code Identity(initializer)} (PyTorch's export of shared or tied
 * parameters) read the initializer directly, so later passes see Conv weights as initializers.
 * Ensures no Identity of an initializer is left (except one naming a graph output).
 */
public final class ResolveInitializerIdentities implements Pass {
    @Override
    public String name() {
        return "resolve-initializer-identities";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, Condition.NO_IDENTITY_OF_INITIALIZER);
    }

    @Override
    public int run(Model m) {
        int changed = 0;
        for (Node n : Rewrites.snapshot(m.graph())) {
            if (n.is("Identity") && m.graph().isInitializer(n.input(0)) && Rewrites.bypass(m.graph(), n)) {
                changed++;
            }
        }
        return changed;
    }
}
