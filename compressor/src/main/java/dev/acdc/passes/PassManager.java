package dev.acdc.passes;

import dev.acdc.AcdcException;
import dev.acdc.ir.Model;

import java.util.ArrayList;
import java.util.List;

/** Runs passes in order, checking each one's pre- and post-conditions. */
public final class PassManager {
    /** What one pass did. */
    public record Result(String pass, int changes, int nodesBefore, int nodesAfter) {
    }

    private final List<Pass> passes;

    public PassManager(List<Pass> passes) {
        this.passes = List.copyOf(passes);
    }

    /** The standard clean-up before analysis: fold constants, drop identities, fold BN into Conv. */
    public static PassManager standard() {
        return new PassManager(List.of(new WidenFloat16(), new FoldConstants(), new ResolveInitializerIdentities(),
                new DropIdentity(), new FoldBatchNorm()));
    }

    public List<Result> run(Model m) {
        List<Result> results = new ArrayList<>();
        for (Pass p : passes) {
            for (Condition c : p.requires()) {
                String v = c.violation(m);
                if (v != null) {
                    throw new AcdcException("the model is not " + c.name() + " (needed by " + p.name() + "): " + v);
                }
            }
            int before = m.graph().nodes().size();
            int changes = p.run(m);
            check(p, p.ensures(), m);
            results.add(new Result(p.name(), changes, before, m.graph().nodes().size()));
        }
        return results;
    }

    private static void check(Pass p, List<Condition> conditions, Model m) {
        for (Condition c : conditions) {
            String v = c.violation(m);
            if (v != null) {
                throw new AcdcException(AcdcException.INTERNAL, "pass " + p.name() + " ensures '" + c.name()
                        + "' but " + v, null);
            }
        }
    }
}
