package dev.acdc.decompose.fullrank;

import dev.acdc.decompose.CompactExporter;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.Decomposition;
import dev.acdc.decompose.DecompositionMethod;
import dev.acdc.decompose.ExportForm;
import dev.acdc.decompose.Plan;
import dev.acdc.decompose.Planner;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A second decomposition method, as a user would add one: its own package and one registration. It
 * keeps as many atoms as a 3x3 kernel has values, shared per conv, so every kernel is reproduced exactly
 * (a lossless re-encoding, for tests of the seam).
 */
public final class FullRankMethod implements DecompositionMethod {
    public static final String ID = "full-rank-test";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "every 3x3 conv as 9 atoms and per-conv coefficients: exact";
    }

    @Override
    public Plan plan(Model m, Settings s, Consumer<String> progress) {
        progress.accept("planning one set per conv, 9 atoms");
        // group auto: a block as wide as the conv, so per-conv coefficients over 9 atoms span every kernel
        return Planner.plan(m, new Settings(Settings.defaults().share(), 9, 0, s.form(), s.exclude(), false,
                Map.of(), ID));
    }

    @Override
    public Decomposition fit(Plan plan, Graph g, Consumer<String> progress) {
        return Decomposition.fit(plan, g);
    }

    @Override
    public List<String> export(Model m, Decomposition d, ExportForm form) {
        return CompactExporter.export(m, d, form);
    }

    @Override
    public long factorizedMacs(Plan plan, ConvPlan c) {
        return CompactExporter.factorizedMacs(c, 9);
    }

    @Override
    public Map<String, String> metadata(Plan plan, String fit) {
        return Map.of("acdc.full_rank_sets", Integer.toString(plan.sets().size()));
    }
}
