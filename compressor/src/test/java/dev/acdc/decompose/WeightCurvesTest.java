package dev.acdc.decompose;

import dev.acdc.ir.Model;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightCurvesTest {
    /**
     * Every point of a curve, read off one SVD, equals the error of the fit the compressor actually makes
     * at that atom count: Σ over the set's convs of the rebuilt kernel's squared relative error.
     */
    @Test
    void eachPointIsTheErrorOfTheFitAtThatCount() {
        for (String share : new String[] {"layer", "net"}) {
            Model m = ModelGenerators.residual(3, 8, 16, 5, 3);
            dev.acdc.passes.PassManager.standard().run(m);
            Plan base = Planner.plan(m, Settings.of(share, null, "8", null, null));
            Map<String, List<AtomBudget.Option>> curves = WeightCurves.of(base, m.graph());
            assertEquals(base.sets().size(), curves.size());
            boolean multi = false;
            for (SharingSet s : base.sets()) {
                List<AtomBudget.Option> c = curves.get(s.id());
                multi |= s.members().size() > 1;
                AtomBudget.Option last = c.get(c.size() - 1);
                assertEquals(Settings.DENSE, last.atoms());
                assertEquals(0, last.error());
                assertEquals(s.denseParams(), last.params());
                for (int i = 0; i + 1 < c.size(); i++) {
                    AtomBudget.Option o = c.get(i);
                    assertEquals(i + 1, o.atoms());
                    assertTrue(o.params() < s.denseParams(), s.id() + ": an option no smaller than dense is useless");
                    if (i > 0) {
                        assertTrue(o.error() <= c.get(i - 1).error() + 1e-12, "more atoms never fit worse");
                    }
                    Plan p = Planner.plan(m, Settings.of(share, Integer.toString(o.atoms()), "8", null, null));
                    Decomposition d = Decomposition.fit(p, m.graph());
                    double sum = 0;
                    for (ConvPlan cp : p.set(s.id()).members()) {
                        sum += d.relError(cp) * d.relError(cp);
                    }
                    assertEquals(sum, o.error(), 1e-5 * (1 + sum), share + " " + s.id() + " m=" + o.atoms());
                }
                assertTrue(c.get(0).error() > 0.05, "one atom is far from exact on random weights: " + c.get(0));
            }
            if (share.equals("net")) {
                assertTrue(multi, "the net scope puts several convs into a set");
            }
        }
    }

    /**
     * The per-weight curve is the per-conv one with each conv's term scaled by its kernel's weight count,
     * checked on the net scope (sets of convs of different sizes) against the fitted kernels' errors.
     */
    @Test
    void thePerWeightCurveCountsEachConvByItsSize() {
        Model m = ModelGenerators.residual(8, 8, 16, 5, 3); // stem 8→16: half the 16→16 convs' 8x8 blocks
        dev.acdc.passes.PassManager.standard().run(m);
        Plan base = Planner.plan(m, Settings.of("net", null, "8", null, null));
        Map<String, List<AtomBudget.Option>> curves = WeightCurves.of(base, m.graph(), WeightCurves.Weighting.PER_WEIGHT);
        boolean mixed = false;
        for (SharingSet s : base.sets()) {
            List<AtomBudget.Option> c = curves.get(s.id());
            for (int i = 0; i + 1 < c.size(); i += 2) {
                AtomBudget.Option o = c.get(i);
                Plan p = Planner.plan(m, Settings.of("net", Integer.toString(o.atoms()), "8", null, null));
                Decomposition d = Decomposition.fit(p, m.graph());
                double sum = 0;
                java.util.Set<Long> sizes = new java.util.HashSet<>();
                for (ConvPlan cp : p.set(s.id()).members()) {
                    long weights = m.graph().initializer(cp.node().input(1)).numel();
                    sizes.add(weights);
                    sum += weights * d.relError(cp) * d.relError(cp);
                }
                mixed |= sizes.size() > 1;
                assertEquals(sum, o.error(), 1e-5 * (1 + sum), s.id() + " m=" + o.atoms());
            }
        }
        assertTrue(mixed, "a set with convs of different sizes tells the weighting from a constant factor");
    }

    /** A set of one 16x16 block (group 16, 3x3) is worth factoring up to 8 atoms: 265·8 < 2304 ≤ 265·9. */
    @Test
    void theLargestUsefulCountIsWhereTheFactorsStaySmaller() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 3);
        dev.acdc.passes.PassManager.standard().run(m);
        Plan p = Planner.plan(m, Settings.of("layer", null, "16", null, null));
        SharingSet block = p.sets().stream().filter(s -> s.shape()[0] == 16 && s.shape()[1] == 16).findFirst()
                .orElseThrow();
        assertEquals(8, WeightCurves.largestUseful(block));
    }
}
