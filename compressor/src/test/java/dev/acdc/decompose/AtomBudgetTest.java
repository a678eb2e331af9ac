package dev.acdc.decompose;

import dev.acdc.AcdcException;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.ir.Model;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The allocation against exhaustive search on synthetic sensitivity curves, and the planner obeying it. */
class AtomBudgetTest {

    /** Random curves: sizes grow with atoms, errors fall (with noise, as measured curves do), dense costs 0. */
    private static Map<String, List<AtomBudget.Option>> curves(Random r, int sets) {
        Map<String, List<AtomBudget.Option>> c = new LinkedHashMap<>();
        for (int s = 0; s < sets; s++) {
            List<AtomBudget.Option> o = new ArrayList<>();
            int per = 10 + r.nextInt(30);
            double e = 1 + 5 * r.nextDouble();
            for (int m = 1; m <= 5; m++) {
                o.add(new AtomBudget.Option(m, (long) per * m, e * Math.exp(-0.6 * m) * (0.7 + 0.6 * r.nextDouble())));
            }
            o.add(new AtomBudget.Option(Settings.DENSE, per * 8L, 0));
            c.put("set" + s, o);
        }
        return c;
    }

    /** The least summed error within the budget, by trying every combination. */
    private static double exhaustive(List<List<AtomBudget.Option>> sets, int k, long left) {
        if (k == sets.size()) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        for (AtomBudget.Option o : sets.get(k)) {
            if (o.params() <= left) {
                best = Math.min(best, o.error() + exhaustive(sets, k + 1, left - o.params()));
            }
        }
        return best;
    }

    @Test
    void allocationIsTheExhaustiveOptimumAndStaysWithinTheBudget() {
        Random r = new Random(7);
        for (int trial = 0; trial < 40; trial++) {
            Map<String, List<AtomBudget.Option>> c = curves(r, 2 + r.nextInt(4));
            long least = c.values().stream().mapToLong(l -> l.get(0).params()).sum();
            long most = c.values().stream().mapToLong(l -> l.get(l.size() - 1).params()).sum();
            long budget = least + (long) (r.nextDouble() * (most - least));
            Map<String, AtomBudget.Option> got = AtomBudget.allocate(c, budget);
            assertEquals(c.keySet(), got.keySet());
            long size = got.values().stream().mapToLong(AtomBudget.Option::params).sum();
            double err = got.values().stream().mapToDouble(AtomBudget.Option::error).sum();
            assertTrue(size <= budget, "within the budget: " + size + " > " + budget);
            double opt = exhaustive(new ArrayList<>(c.values()), 0, budget);
            assertEquals(opt, err, 1e-12, "trial " + trial + ": the optimum (budget " + budget + " < 4000: exact)");
        }
    }

    /** A large budget is solved in coarse units, which round sizes up: never over the budget, near the optimum. */
    @Test
    void coarseUnitsNeverExceedTheBudget() {
        Random r = new Random(3);
        Map<String, List<AtomBudget.Option>> c = new LinkedHashMap<>();
        for (Map.Entry<String, List<AtomBudget.Option>> e : curves(r, 4).entrySet()) {
            c.put(e.getKey(), e.getValue().stream().map(o -> new AtomBudget.Option(o.atoms(), o.params() * 997 + 13,
                    o.error())).toList());
        }
        long budget = c.values().stream().mapToLong(l -> l.get(2).params()).sum();
        Map<String, AtomBudget.Option> got = AtomBudget.allocate(c, budget);
        assertTrue(got.values().stream().mapToLong(AtomBudget.Option::params).sum() <= budget);
        double err = got.values().stream().mapToDouble(AtomBudget.Option::error).sum();
        double opt = exhaustive(new ArrayList<>(c.values()), 0, budget);
        assertTrue(err >= opt - 1e-12, "no better than the optimum");
        // a budget short by the rounding of four options at most: the optimum there bounds the result
        assertTrue(err <= exhaustive(new ArrayList<>(c.values()), 0, budget - 4 * (budget / AtomBudget.STEPS + 1)) + 1e-12);
    }

    @Test
    void anImpossibleBudgetIsNamed() {
        Map<String, List<AtomBudget.Option>> c = curves(new Random(1), 3);
        AcdcException e = assertThrows(AcdcException.class, () -> AtomBudget.allocate(c, 5));
        assertTrue(e.getMessage().contains("the size target cannot be met"), e.getMessage());
    }

    /** The planner gives each named set its atoms, keeps a DENSE one dense with the reason, and the rest default. */
    @Test
    void plannerFollowsPerSetAtoms() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 2);
        dev.acdc.passes.PassManager.standard().run(m);
        Plan uniform = Planner.plan(m, Settings.of("layer", null, "8", null, null));
        List<String> ids = uniform.sets().stream().map(SharingSet::id).toList();
        assertTrue(ids.size() >= 2, ids.toString());
        Map<String, Integer> per = new LinkedHashMap<>();
        per.put(ids.get(0), Settings.DENSE);
        per.put(ids.get(1), 2);
        Plan p = Planner.plan(m, Settings.of("layer", null, "8", null, null).withSetAtoms(per));
        assertEquals(ids.size() - 1, p.sets().size());
        assertEquals(2, p.set(ids.get(1)).atoms());
        assertTrue(p.convs().stream().anyMatch(c -> "kept dense by the atom budget".equals(c.reason())));
        for (SharingSet s : p.sets()) {
            if (!s.id().equals(ids.get(1))) {
                assertEquals(Math.min(6, s.maxAtoms()), s.atoms(), s.id());
            }
            assertEquals(AtomBudget.params(s, s.atoms()), s.acdcParams());
        }
    }
}
