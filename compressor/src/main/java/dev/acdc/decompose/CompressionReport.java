package dev.acdc.decompose;

import dev.acdc.linalg.LowRank;

import dev.acdc.inspect.ModelSummary;
import dev.acdc.util.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compression report: JSON-ready maps (input, output, settings, convs, sets, timings) and the
 * before/after table the command prints. All figures are computed from the models themselves.
 */
public final class CompressionReport {
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final ModelSummary before;
    private final ModelSummary after;
    private final Compressor.Result result;

    public CompressionReport(Path input, ModelSummary before, Path output, ModelSummary after, Compressor.Result r) {
        this.before = before;
        this.after = after;
        this.result = r;
        Plan plan = r.plan();
        Settings s = plan.settings();
        json.put("input", model(input, before));
        Map<String, Object> out = model(output, after);
        out.put("macsFactorized", factorizedMacs(before, plan));
        json.put("output", out);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("share", s.share().id());
        settings.put("atoms", s.atoms() > 0 ? s.atoms() : "default");
        settings.put("group", plan.group());
        settings.put("groupSource", plan.groupReason());
        settings.put("form", s.form().id());
        settings.put("fit", plan.decomposed().stream().anyMatch(c -> r.decomposition().outputError(c) != null)
                ? "output" : "svd");
        settings.put("exclude", s.exclude() == null ? null : s.exclude().pattern());
        json.put("settings", settings);
        List<Map<String, Object>> convs = new ArrayList<>();
        for (ConvPlan c : plan.convs()) {
            Map<String, Object> cj = new LinkedHashMap<>();
            cj.put("name", c.name());
            cj.put("kernel", c.kernel());
            cj.put("group", c.group());
            cj.put("decomposed", c.decomposed());
            cj.put("reason", c.reason());
            cj.put("set", c.setId());
            cj.put("blocks", c.blocks());
            cj.put("relError", c.decomposed() ? r.decomposition().relError(c) : null);
            OutputFit.ConvError oe = c.decomposed() ? r.decomposition().outputError(c) : null;
            if (oe != null) {
                cj.put("relErrorSvd", r.decomposition().svdRelError(c));
                cj.put("outputErrorSvd", oe.svd());
                cj.put("outputError", oe.fitted());
            }
            cj.put("denseParams", c.denseParams());
            convs.add(cj);
        }
        json.put("convs", convs);
        List<Map<String, Object>> sets = new ArrayList<>();
        long dense = 0;
        long acdc = 0;
        for (SharingSet set : plan.sets()) {
            LowRank.Fit f = r.decomposition().fit(set.id());
            Map<String, Object> sj = new LinkedHashMap<>();
            sj.put("id", set.id());
            sj.put("convs", set.members().stream().map(ConvPlan::name).toList());
            sj.put("blocks", set.blocks());
            sj.put("shape", set.shape());
            sj.put("atoms", set.atoms());
            sj.put("energy", f.energyFraction());
            sj.put("discardedEnergy", f.discardedEnergy());
            sj.put("singularValues", f.sigma());
            sj.put("svd", f.method());
            List<Double> objective = r.decomposition().objective(set.id());
            if (objective != null) {
                sj.put("outputFitIterations", objective.size() - 1);
                sj.put("outputFitObjective", objective);
            }
            sj.put("denseParams", set.denseParams());
            sj.put("acdcParams", set.acdcParams());
            sets.add(sj);
            dense += set.denseParams();
            acdc += set.acdcParams();
        }
        json.put("sets", sets);
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("decomposedConvs", plan.decomposed().size());
        totals.put("spatialConvs", plan.convs().stream().filter(ConvPlan::spatial).count());
        totals.put("denseParamsOfDecomposed", dense);
        totals.put("acdcParams", acdc);
        totals.put("fractionOfDecomposedWeights", dense == 0 ? 1.0 : (double) acdc / dense);
        long spatialDense = plan.convs().stream().filter(ConvPlan::spatial).mapToLong(ConvPlan::denseParams).sum();
        long keptSpatial = spatialDense - dense;
        totals.put("fractionOfSpatialWeights", spatialDense == 0 ? 1.0 : (double) (acdc + keptSpatial) / spatialDense);
        totals.put("paramRatio", ratioOrNull(after.params(), before.params()));
        totals.put("byteRatio", ratioOrNull(after.bytes(), before.bytes()));
        json.put("totals", totals);
        json.put("notes", r.notes());
        json.put("timings", r.timings());
    }

    /** a / b, or null (JSON null, "not defined") when b is 0: never the string "Infinity" where a number belongs. */
    private static Double ratioOrNull(long a, long b) {
        return b == 0 ? null : (double) a / b;
    }

    private static Map<String, Object> model(Path p, ModelSummary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", p == null ? null : p.toString());
        m.put("params", s.params());
        m.put("bytes", s.bytes());
        m.put("macs", s.macs());
        return m;
    }

    /** MACs if every decomposed conv ran in factorized form, the rest unchanged. */
    static long factorizedMacs(ModelSummary before, Plan plan) {
        long macs = before.macs();
        for (ConvPlan c : plan.decomposed()) {
            SharingSet s = plan.set(c.setId());
            long hw = Math.max(1, c.outShape[1]) * Math.max(1, c.outShape[2]);
            macs -= c.denseParams() * hw;
            macs += CompactExporter.factorizedMacs(c, s.atoms());
        }
        return macs;
    }

    public Map<String, Object> json() {
        return json;
    }

    /** Adds a note to the JSON's notes (the console text prints the notes of the fit only). */
    public void note(String n) {
        @SuppressWarnings("unchecked")
        java.util.List<String> notes = (java.util.List<String>) json.get("notes");
        java.util.List<String> all = new ArrayList<>(notes);
        all.add(n);
        json.put("notes", all);
    }

    /** Adds a section (e.g. validation, verification) to the JSON. */
    public void put(String key, Object value) {
        json.put(key, value);
    }

    /** The per-conv table and the before/after summary, as printed by the command. */
    public String text() {
        Plan plan = result.plan();
        StringBuilder sb = new StringBuilder();
        boolean outFit = plan.decomposed().stream().anyMatch(c -> result.decomposition().outputError(c) != null);
        Table t = outFit
                ? new Table("conv", "kernel", "set", "blocks", "atoms", "weight err svd", "weight err fit",
                        "output err svd", "output err fit", "note").leftAligned(1, 2, 9)
                : new Table("conv", "kernel", "set", "blocks", "atoms", "rel.error", "note").leftAligned(1, 2, 6);
        for (ConvPlan c : plan.convs()) {
            if (!c.spatial()) {
                continue;
            }
            if (c.decomposed()) {
                SharingSet s = plan.set(c.setId());
                Decomposition d = result.decomposition();
                OutputFit.ConvError oe = d.outputError(c);
                if (outFit) {
                    t.row(c.name(), c.kernelString(), c.setId(), c.blocks(), s.atoms(),
                            String.format("%.4f", d.svdRelError(c)), String.format("%.4f", d.relError(c)),
                            oe == null ? "-" : String.format("%.4f", oe.svd()),
                            oe == null ? "-" : String.format("%.4f", oe.fitted()), oe == null ? "svd fit kept" : "");
                } else {
                    t.row(c.name(), c.kernelString(), c.setId(), c.blocks(), s.atoms(),
                            String.format("%.4f", d.relError(c)), "");
                }
            } else if (outFit) {
                t.row(c.name(), c.kernelString(), "-", "-", "-", "-", "-", "-", "-", "dense: " + c.reason());
            } else {
                t.row(c.name(), c.kernelString(), "-", "-", "-", "-", "dense: " + c.reason());
            }
        }
        sb.append(t);
        @SuppressWarnings("unchecked")
        Map<String, Object> totals = (Map<String, Object>) json.get("totals");
        sb.append('\n');
        Table ba = new Table("", "before", "after", "ratio").leftAligned();
        ba.row("params", before.params(), after.params(), ratio(after.params(), before.params()));
        ba.row("bytes", before.bytes(), after.bytes(), ratio(after.bytes(), before.bytes()));
        ba.row("MACs", before.macs(), after.macs(), ratio(after.macs(), before.macs()));
        long fm = (long) ((Map<?, ?>) json.get("output")).get("macsFactorized");
        ba.row("MACs if factorized", before.macs(), fm, ratio(fm, before.macs()));
        if (json.get("validation") instanceof Map<?, ?> v && v.get("original") instanceof Map<?, ?> o
                && v.get("candidate") instanceof Map<?, ?> c && o.get("top1") instanceof Number a
                && c.get("top1") instanceof Number b) {
            ba.row("top-1 (" + v.get("samples") + " images)", String.format("%.2f %%", 100 * a.doubleValue()),
                    String.format("%.2f %%", 100 * b.doubleValue()),
                    String.format("%+.2f pts", 100 * (b.doubleValue() - a.doubleValue())));
            if (v.get("agreement") instanceof Number ag) {
                ba.row("agreement", "", String.format("%.2f %%", 100 * ag.doubleValue()), "");
            }
        }
        if (json.get("timings") instanceof Map<?, ?> tm && tm.get("total") instanceof Number total) {
            String parts = tm.get("finetune") instanceof Number ft ? String.format(" (fine-tune %.0f s)", ft.doubleValue()) : "";
            ba.row("time", "", String.format("%.1f s", total.doubleValue()) + parts, "");
        }
        sb.append(ba);
        sb.append(String.format("%nspatial conv weights kept: %.1f %% (%d of %d convs decomposed into %d sharing set%s, group %d)%n",
                100 * (double) totals.get("fractionOfSpatialWeights"), plan.decomposed().size(),
                (long) totals.get("spatialConvs"), plan.sets().size(), plan.sets().size() == 1 ? "" : "s", plan.group()));
        for (String n : result.notes()) {
            sb.append("note: ").append(n).append('\n');
        }
        return sb.toString();
    }

    private static String ratio(long a, long b) {
        return b == 0 ? "-" : String.format("%.3f", (double) a / b);
    }
}
