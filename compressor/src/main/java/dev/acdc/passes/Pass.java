package dev.acdc.passes;

import dev.acdc.ir.Model;

import java.util.List;

/**
 * A graph rewrite. It states the conditions it needs and the ones it guarantees; {@link PassManager}
 * checks both around every run, so a broken pass fails loudly where it broke.
 */
public interface Pass {
    String name();

    default List<Condition> requires() {
        return List.of(Condition.WELL_FORMED);
    }

    List<Condition> ensures();

    /** Rewrites the model in place; returns how many nodes it changed or removed (0 = nothing to do). */
    int run(Model m);
}
