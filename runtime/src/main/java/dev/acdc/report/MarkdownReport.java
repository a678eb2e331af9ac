package dev.acdc.report;

import java.util.List;
import java.util.Map;

/** The compression report as Markdown: summary, per-convolution table, fine-tuning curve, validation. */
public final class MarkdownReport {
    private MarkdownReport() {
    }

    public static String render(Map<String, Object> json) {
        ReportFacts f = new ReportFacts(json);
        StringBuilder sb = new StringBuilder();
        Map<?, ?> in = f.section("input");
        Map<?, ?> out = f.section("output");
        Map<?, ?> settings = f.section("settings");
        sb.append("# acdc compression report\n\n");
        sb.append("`").append(in.get("path")).append("` → `").append(out.get("path")).append("`  \n");
        sb.append("share **").append(settings.get("share")).append("**, group ").append(settings.get("group"))
                .append(", atoms ").append(settings.get("atoms")).append(", form ").append(settings.get("form"))
                .append("\n\n");
        if (json.get("verdict") != null) {
            sb.append("**Verdict:** ").append(json.get("verdict")).append("\n\n");
        }
        sb.append("## Summary\n\n| | before | after | ratio |\n|---|---:|---:|---:|\n");
        for (String k : new String[] {"params", "bytes", "macs"}) {
            double a = ReportFacts.num(in.get(k));
            double b = ReportFacts.num(out.get(k));
            sb.append(String.format("| %s | %,.0f | %,.0f | %.3f |%n", k.equals("macs") ? "MACs" : k, a, b, b / a));
        }
        Map<?, ?> v = f.section("validation");
        if (v.get("original") instanceof Map<?, ?> o && v.get("candidate") instanceof Map<?, ?> c
                && o.get("top1") != null) {
            double a = ReportFacts.num(o.get("top1"));
            double b = ReportFacts.num(c.get("top1"));
            sb.append(String.format("| top-1 (%s images) | %.2f %% | %.2f %% | %+.2f pts |%n", v.get("samples"), 100 * a,
                    100 * b, 100 * (b - a)));
            sb.append(String.format("| agreement | | %.2f %% | |%n", 100 * ReportFacts.num(v.get("agreement"))));
        }
        Map<?, ?> t = f.section("timings");
        if (t.get("total") != null) {
            sb.append(String.format("| time | | %.1f s | |%n", ReportFacts.num(t.get("total"))));
        }
        sb.append("\n## Convolutions\n\n| conv | kernel | set | params before | params after | rel. error | note |\n")
                .append("|---|---|---|---:|---:|---:|---|\n");
        for (Map<String, Object> r : f.convRows()) {
            boolean dec = (boolean) r.get("decomposed");
            sb.append(String.format("| `%s` | %s | %s | %,.0f | %,.0f | %s | %s |%n", r.get("name"), kernel(r.get("kernel")),
                    dec ? "`" + r.get("set") + "`" : "-", (double) r.get("before"), (double) r.get("after"),
                    dec ? String.format("%.4f", (double) r.get("relError")) : "-",
                    dec ? "" : "dense: " + r.get("note")));
        }
        sb.append("\n_params after_: a decomposed conv's atoms plus its share of the set's coefficients.\n");
        Map<?, ?> of = f.section("outputFit");
        if (!of.isEmpty()) {
            Map<?, ?> cal = of.get("calibration") instanceof Map<?, ?> cm ? cm : Map.of();
            sb.append("\n## Output fit\n\n").append("Calibration: ").append(cal.get("sample")).append(" of ")
                    .append(cal.get("data")).append(", seed ").append(cal.get("seed")).append("; target ")
                    .append(of.get("target")).append(", at most ").append(of.get("iterationsMax"))
                    .append(" ALS iterations per set; ")
                    .append(String.format("%.1f s.%n%n", ReportFacts.num(of.get("seconds"))))
                    .append(String.format("Top-1 agreement with the original on the calibration images: **%.1f %%** "
                                    + "(SVD fit %.1f %%); mean KL divergence %.3f (SVD fit %.3f).%n%n",
                            100 * ReportFacts.num(of.get("agreementOutputFit")), 100 * ReportFacts.num(of.get("agreementSvd")),
                            ReportFacts.num(of.get("klOutputFit")), ReportFacts.num(of.get("klSvd"))))
                    .append("| conv | weight error, SVD | weight error, output fit | output error, SVD | output error, output fit |\n")
                    .append("|---|---:|---:|---:|---:|\n");
            for (Map<String, Object> r : f.convRows()) {
                if ((boolean) r.get("decomposed") && !Double.isNaN((double) r.get("outputError"))) {
                    sb.append(String.format("| `%s` | %.4f | %.4f | %.4f | %.4f |%n", r.get("name"),
                            (double) r.get("relErrorSvd"), (double) r.get("relError"), (double) r.get("outputErrorSvd"),
                            (double) r.get("outputError")));
                }
            }
            sb.append("\n_output error_: ‖y − ŷ‖ / ‖y‖ of the conv's output (or of the residual sum it feeds) on the "
                    + "calibration images, with the inputs the output-fitted prefix gives it; the SVD column uses the SVD "
                    + "kernel and the original bias on the same inputs.\n");
        }
        appendFinetune(sb, f);
        appendQuantization(sb, f.section("quantization"));
        appendValidation(sb, v);
        for (Object n : json.get("notes") instanceof List<?> l ? l : List.of()) {
            sb.append("\nnote: ").append(n).append('\n');
        }
        return sb.toString();
    }

    /**
     * The report of {@code acdc finetune} or {@code acdc train}: the models, the fine-tuning curve, the
     * write-back check and the validation (a compression report's other sections do not apply).
     */
    public static String renderTraining(Map<String, Object> report) {
        Map<String, Object> json = new java.util.LinkedHashMap<>(report);
        if (!json.containsKey("finetune") && json.get("training") != null) {
            json.put("finetune", json.get("training")); // acdc train's section has the same fields
        }
        ReportFacts f = new ReportFacts(json);
        StringBuilder sb = new StringBuilder();
        sb.append(json.get("teacher") != null ? "# acdc fine-tuning report\n\n" : "# acdc training report\n\n");
        sb.append("`").append(json.get("input")).append("` → `").append(json.get("output")).append("`");
        if (json.get("teacher") != null) {
            sb.append(", teacher `").append(json.get("teacher")).append("`");
        }
        sb.append("\n\n");
        if (json.get("verdict") != null) {
            sb.append("**Verdict:** ").append(json.get("verdict")).append("\n\n");
        }
        Map<?, ?> st = f.section("finetune").get("settings") instanceof Map<?, ?> m ? m : Map.of();
        if (!st.isEmpty()) {
            sb.append("Settings: ");
            boolean first = true;
            for (Map.Entry<?, ?> e : st.entrySet()) {
                sb.append(first ? "" : ", ").append(e.getKey()).append(" ").append(e.getValue());
                first = false;
            }
            sb.append("\n");
        }
        appendFinetune(sb, f);
        Map<?, ?> c = f.section("consistency");
        if (!c.isEmpty()) {
            sb.append(String.format("%nWrite-back check: ONNX Runtime on the written model against SameDiff on the trained "
                    + "weights, max |logit difference| %.2g on a probe batch.%n", ReportFacts.num(c.get("maxAbsLogitDiff"))));
        }
        appendValidation(sb, f.section("validation"));
        for (Object n : json.get("notes") instanceof List<?> l ? l : List.of()) {
            sb.append("\nnote: ").append(n).append('\n');
        }
        return sb.toString();
    }

    /** The report of {@code acdc quantize}: sizes, what was quantized, per-layer errors, validation. */
    public static String renderQuantization(Map<String, Object> json) {
        ReportFacts f = new ReportFacts(json);
        StringBuilder sb = new StringBuilder("# acdc quantization report\n\n");
        sb.append("`").append(json.get("input")).append("` → `").append(json.get("output")).append("`\n\n");
        if (json.get("verdict") != null) {
            sb.append("**Verdict:** ").append(json.get("verdict")).append("\n\n");
        }
        sb.append(String.format("| | bytes | parameters |%n|---|---:|---:|%n| float | %,d | %,d |%n| quantized | %,d | %,d |%n",
                (long) ReportFacts.num(json.get("inputBytes")), (long) ReportFacts.num(json.get("inputParams")),
                (long) ReportFacts.num(json.get("outputBytes")), (long) ReportFacts.num(json.get("outputParams"))));
        appendQuantization(sb, f.section("quantization"));
        appendValidation(sb, f.section("validation"));
        return sb.toString();
    }

    /** The int8 section (shared with the compression report when it quantized). */
    static void appendQuantization(StringBuilder sb, Map<?, ?> q) {
        if (q.isEmpty()) {
            return;
        }
        sb.append("\n## int8 quantization (").append(q.get("mode")).append(")\n\n");
        sb.append("Weights: ").append(q.get("weights")).append(".\n");
        if (q.get("activations") != null) {
            sb.append("Activations: ").append(q.get("activations")).append(".\n");
        }
        if (q.get("calibration") instanceof Map<?, ?> c) {
            sb.append("Calibration: ").append(c.get("images")).append(" images of ").append(c.get("data"))
                    .append(" (").append(c.get("sample")).append(", seed ").append(c.get("seed")).append(").\n");
        }
        if (q.get("float") instanceof Map<?, ?> fl) {
            sb.append(String.format("%nFloat model before quantization: %,d bytes%s.%n", (long) ReportFacts.num(fl.get("bytes")),
                    fl.get("top1") == null ? "" : String.format(", top-1 %s (int8: %s)", pct(fl.get("top1")),
                            pct(fl.get("quantizedTop1")))));
        }
        for (String k : new String[] {"keptFloat", "notes"}) {
            for (Object o : q.get(k) instanceof List<?> l ? l : List.of()) {
                sb.append("\n").append(k.equals("notes") ? "note: " : "kept float: ").append(o);
            }
        }
        if (q.get("layerErrors") instanceof List<?> le && !le.isEmpty()) {
            sb.append(String.format("%n%nPer-layer output error against the float model on %s calibration images:%n%n",
                    q.get("layerErrorImages")));
            sb.append("| layer | relative error | SQNR dB |\n|---|---:|---:|\n");
            for (Object o : le) {
                if (o instanceof Map<?, ?> e) {
                    double s = ReportFacts.num(e.get("sqnrDb"));
                    sb.append(String.format("| %s | %.4f | %s |%n", e.get("layer"), ReportFacts.num(e.get("relativeError")),
                            Double.isNaN(s) ? "exact" : String.format("%.1f", s)));
                }
            }
        }
        sb.append("\n");
    }

    private static void appendFinetune(StringBuilder sb, ReportFacts f) {
        Map<?, ?> ft = f.section("finetune");
        List<Map<?, ?>> epochs = f.list(ft, "epochs");
        if (!epochs.isEmpty()) {
            sb.append("\n## Fine-tuning\n\n").append(ft.get("trainData")).append("; ").append(ft.get("backend"))
                    .append(String.format("; %.0f s, %.0f images/s; epoch kept: %s (chosen by the %s)%n%n",
                            ReportFacts.num(ft.get("seconds")), ReportFacts.num(ft.get("imagesPerSecond")),
                            ft.get("bestEpoch"), ft.get("keptEpochChosenBy") == null ? "last epoch"
                                    : ft.get("keptEpochChosenBy")))
                    .append(ft.get("selectionData") == null ? "" : "Selection split: " + ft.get("selectionData") + ".\n\n")
                    .append("| epoch | mean loss | selection top-1 | eval top-1 (reported only) | seconds |\n"
                            + "|---:|---:|---:|---:|---:|\n");
            for (Map<?, ?> e : epochs) {
                double sel = ReportFacts.num(e.get("selectTop1"));
                double acc = ReportFacts.num(e.get("evalTop1"));
                sb.append(String.format("| %s%s | %.4f | %s | %s | %.0f |%n", e.get("epoch"),
                        String.valueOf(e.get("epoch")).equals(String.valueOf(ft.get("bestEpoch"))) ? " (kept)" : "",
                        ReportFacts.num(e.get("loss")),
                        Double.isNaN(sel) ? "-" : String.format("%.2f %%", 100 * sel),
                        Double.isNaN(acc) ? "-" : String.format("%.2f %%", 100 * acc), ReportFacts.num(e.get("seconds"))));
            }
        }
    }

    private static void appendValidation(StringBuilder sb, Map<?, ?> v) {
        if (!v.isEmpty()) {
            sb.append("\n## Validation\n\n").append(v.get("data")).append(", ONNX Runtime ").append(v.get("provider"))
                    .append("\n\n| | top-1 | top-5 |\n|---|---:|---:|\n");
            for (String k : new String[] {"original", "candidate"}) {
                if (v.get(k) instanceof Map<?, ?> m) {
                    sb.append(String.format("| %s | %s | %s |%n", k, pct(m.get("top1")), pct(m.get("top5"))));
                }
            }
            sb.append(String.format("%nagreement %.2f %%, logit difference max %.3g, mean %.3g%n",
                    100 * ReportFacts.num(v.get("agreement")), ReportFacts.num(v.get("maxAbsDiff")),
                    ReportFacts.num(v.get("meanAbsDiff"))));
        }
    }

    static String pct(Object o) {
        double d = ReportFacts.num(o);
        return Double.isNaN(d) ? "-" : String.format("%.2f %%", 100 * d);
    }

    static String kernel(Object k) {
        if (k instanceof long[] a) {
            StringBuilder b = new StringBuilder();
            for (long o : a) {
                b.append(b.length() == 0 ? "" : "×").append(o);
            }
            return b.toString();
        }
        if (k instanceof List<?> l) {
            StringBuilder b = new StringBuilder();
            for (Object o : l) {
                b.append(b.length() == 0 ? "" : "×").append(o);
            }
            return b.toString();
        }
        return String.valueOf(k);
    }
}
