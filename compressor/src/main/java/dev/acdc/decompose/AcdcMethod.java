package dev.acdc.decompose;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Atom-Coefficient Decomposed Convolution (arXiv 2009.02386): every spatial kernel's per-block slices
 * are combinations of a few atoms, with the coefficients shared across a sharing set ({@link Planner}),
 * fitted by truncated SVD ({@link Decomposition#fit}) and written as a compact standard ONNX graph
 * ({@link CompactExporter}).
 */
public final class AcdcMethod implements DecompositionMethod {
    public static final String ID = "acdc";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "atoms per conv, coefficients shared across a sharing set (--share), fitted by truncated SVD";
    }

    @Override
    public Plan plan(Model m, Settings s, Consumer<String> progress) {
        progress.accept("planning sharing sets (" + s.share().id() + ")");
        return Planner.plan(m, s);
    }

    @Override
    public Decomposition fit(Plan plan, Graph g, Consumer<String> progress) {
        progress.accept("fitting " + plan.sets().size() + " sharing set(s) by truncated SVD");
        return Decomposition.fit(plan, g);
    }

    @Override
    public List<String> export(Model m, Decomposition d, ExportForm form) {
        return CompactExporter.export(m, d, form);
    }

    @Override
    public long factorizedMacs(Plan plan, ConvPlan c) {
        return CompactExporter.factorizedMacs(c, plan.set(c.setId()).atoms());
    }

    @Override
    public Map<String, String> metadata(Plan plan, String fit) {
        Settings s = plan.settings();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("acdc.share", s.share().id());
        m.put("acdc.atoms", s.atoms() > 0 ? Integer.toString(s.atoms()) : "default");
        m.put("acdc.pointwise", s.pointwise() == 0 ? "dense" : Double.toString(s.pointwise()));
        m.put("acdc.group", Integer.toString(plan.group()));
        m.put("acdc.form", s.form().id());
        m.put("acdc.fit", fit);
        m.put("acdc.sets", Integer.toString(plan.sets().size()));
        m.put("acdc.decomposed_convs", Integer.toString(plan.decomposed().size()));
        return m;
    }
}
