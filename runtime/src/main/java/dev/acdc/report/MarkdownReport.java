package dev.acdc.report;

import dev.acdc.util.Text;

import java.util.List;
import java.util.Map;

/** Reports as Markdown: summary, per-convolution table, output fit, fine-tuning curve, int8, validation. */
public final class MarkdownReport {
    private MarkdownReport() {
    }

    /** The compression report. */
    public static String render(CompressReport r) {
        StringBuilder sb = new StringBuilder();
        CompressReport.ModelStats in = r.input();
        CompressReport.ModelStats out = r.output();
        CompressReport.Settings settings = r.settings();
        sb.append("# acdc compression report\n\n");
        sb.append("`").append(in.path()).append("` → `").append(out.path()).append("`  \n");
        sb.append("share **").append(settings.share()).append("**, group ").append(settings.group())
                .append(", atoms ").append(settings.atoms()).append(", form ").append(settings.form()).append("\n\n");
        sb.append("**Verdict:** ").append(r.verdict()).append("\n\n");
        stages(sb, r);
        sb.append("## Summary\n\n| | before | after | ratio |\n|---|---:|---:|---:|\n");
        summaryRow(sb, "params", in.params(), out.params());
        summaryRow(sb, "bytes", in.bytes(), out.bytes());
        summaryRow(sb, "MACs", in.macs(), out.macs());
        ValidationSection v = r.validation();
        if (v != null && v.hasTop1()) {
            double a = v.original().top1();
            double b = v.candidate().top1();
            sb.append(String.format("| top-1 (%s images) | %.2f %% | %.2f %% | %+.2f pts |%n", v.samples(), 100 * a,
                    100 * b, 100 * (b - a)));
            sb.append(String.format("| agreement | | %.2f %% | |%n", 100 * v.agreement()));
        }
        Double total = r.timings().get("total");
        if (total != null) {
            sb.append(String.format("| time | | %.1f s | |%n", total));
        }
        sb.append("\n## Convolutions\n\n| conv | kernel | set | params before | params after | rel. error | note |\n")
                .append("|---|---|---|---:|---:|---:|---|\n");
        Map<String, Double> after = r.paramsAfter();
        for (CompressReport.Conv c : r.convs()) {
            boolean dec = c.decomposed();
            sb.append(String.format("| `%s` | %s | %s | %,.0f | %,.0f | %s | %s |%n", Text.markdownCell(c.name()),
                    c.kernelString("×"), dec ? "`" + Text.markdownCell(c.set()) + "`" : "-", (double) c.denseParams(),
                    after.get(c.name()), dec ? Finite.format("%.4f", c.relError()) : "-",
                    dec ? "" : "dense: " + Text.markdownCell(c.reason())));
        }
        sb.append("\n_params after_: a decomposed conv's atoms plus its share of the set's coefficients.\n");
        OutputFitSection of = r.outputFit();
        if (of != null) {
            CalibrationSample cal = of.calibration();
            sb.append("\n## Output fit\n\n").append("Calibration: ").append(cal.sample()).append(" of ")
                    .append(cal.data()).append(", seed ").append(cal.seed()).append("; target ")
                    .append(of.target()).append(", at most ").append(of.iterationsMax())
                    .append(" ALS iterations per set; ")
                    .append(String.format("%.1f s.%n%n", of.seconds()))
                    .append(String.format("Top-1 agreement with the original on the calibration images: **%.1f %%** "
                                    + "(SVD fit %.1f %%); mean KL divergence %.3f (SVD fit %.3f).%n%n",
                            100 * of.agreementOutputFit(), 100 * of.agreementSvd(), of.klOutputFit(), of.klSvd()))
                    .append("| conv | weight error, SVD | weight error, output fit | output error, SVD | output error, output fit |\n")
                    .append("|---|---:|---:|---:|---:|\n");
            for (CompressReport.Conv c : r.convs()) {
                if (c.decomposed() && c.outputError() != null) {
                    sb.append(String.format("| `%s` | %s | %s | %s | %s |%n", Text.markdownCell(c.name()),
                            Finite.format("%.4f", c.relErrorSvd()), Finite.format("%.4f", c.relError()),
                            Finite.format("%.4f", c.outputErrorSvd()), Finite.format("%.4f", c.outputError())));
                }
            }
            sb.append("\n_output error_: ‖y − ŷ‖ / ‖y‖ of the conv's output (or of the residual sum it feeds) on the "
                    + "calibration images, with the inputs the output-fitted prefix gives it; the SVD column uses the SVD "
                    + "kernel and the original bias on the same inputs.\n");
        }
        if (r.recovery() != null) {
            r.recovery().markdown(sb);
        }
        appendOutputs(sb, r.verification());
        appendSensitivity(sb, r.sensitivity());
        appendFinetune(sb, r.finetune());
        appendQuantization(sb, r.quantization());
        appendValidation(sb, v);
        appendNotes(sb, r.notes());
        return sb.toString();
    }

    /** The per-set sensitivity table: KL / agreement per atom count, the count the run used in bold. */
    static void appendSensitivity(StringBuilder sb, SensitivitySection s) {
        if (s == null || s.sets().isEmpty()) {
            return;
        }
        CalibrationSample cal = s.calibration();
        sb.append("\n## Sensitivity\n\n").append("The network's output with **only that set compressed** (")
                .append(s.fit()).append(", every other convolution dense) against the original on ")
                .append(cal.sample()).append(" of ").append(cal.data()).append(", seed ").append(cal.seed())
                .append(": mean KL(original ‖ compressed) / top-1 agreement. **Bold**: the atoms this run gave the set.\n\n");
        List<String> cols = s.columns();
        sb.append("| set | shape | dense params | atoms used |");
        for (String c : cols) {
            sb.append(c.equals("dense") ? " dense |" : " m=" + c + " |");
        }
        sb.append("\n|---|---|---:|---:|").append("---:|".repeat(cols.size())).append('\n');
        for (SensitivitySection.SetCurve c : s.sets()) {
            sb.append(String.format("| `%s` | %s | %,d | %s |", Text.markdownCell(c.set()), c.shape(), c.denseParams(),
                    c.atomsUsed()));
            for (String col : cols) {
                SensitivitySection.Point p = c.at(col);
                String cell = p == null ? "-" : String.format("%.3f / %.0f %%", p.kl(), 100 * p.agreement());
                sb.append(' ').append(p != null && col.equals(c.atomsUsed()) ? "**" + cell + "**" : cell).append(" |");
            }
            sb.append('\n');
        }
    }

    /**
     * What each stage did, first: its outcome in the terms a user judges (agreement with the original, top-1,
     * bytes) and its time; the diagnostics (per-conv errors) follow in their sections.
     */
    static void stages(StringBuilder sb, CompressReport r) {
        Map<String, Double> t = r.timings();
        java.util.List<String[]> rows = new java.util.ArrayList<>();
        OutputFitSection of = r.outputFit();
        if (of != null) {
            rows.add(new String[] {"SVD fit", String.format(java.util.Locale.ROOT, "agrees with the original on %.1f %% "
                    + "of the %d calibration images", 100 * of.agreementSvd(), of.calibration().images()),
                    seconds(t.get("fit"))});
            rows.add(new String[] {"output fit", String.format(java.util.Locale.ROOT, "**%.1f %%** agreement (KL %.3f "
                    + "→ %.3f)", 100 * of.agreementOutputFit(), of.klSvd(), of.klOutputFit()), seconds(of.seconds())});
        } else {
            rows.add(new String[] {"SVD fit", "from the weights alone (no data)", seconds(t.get("fit"))});
        }
        if (r.recovery() != null) {
            rows.add(new String[] {"block recovery", Text.markdownCell(r.recovery().outcome()), seconds(t.get("recovery"))});
        }
        FineTuneSection ft = r.finetune();
        if (ft != null && !ft.epochs().isEmpty()) {
            FineTuneSection.Epoch kept = ft.epochs().stream().filter(e -> e.epoch() == ft.bestEpoch()).findFirst()
                    .orElse(ft.epochs().get(ft.epochs().size() - 1));
            StringBuilder what = new StringBuilder(String.format(java.util.Locale.ROOT, "%d epoch(s) on %,d images; "
                    + "kept epoch %d", ft.epochs().size(), ft.trainImages(), kept.epoch()));
            if (kept.selectTop1() != null) {
                what.append(String.format(java.util.Locale.ROOT, ", selection top-1 **%.2f %%**", 100 * kept.selectTop1()));
            }
            if (kept.evalTop1() != null) {
                what.append(String.format(java.util.Locale.ROOT, ", evaluation top-1 %.2f %% (reported only)",
                        100 * kept.evalTop1()));
            }
            rows.add(new String[] {"fine-tune", what.toString(), seconds(t.get("finetune"))});
        }
        QuantizationSection q = r.quantization();
        if (q != null && q.floatModel() != null) {
            QuantizationSection.FloatModel f = q.floatModel();
            String acc = f.top1() != null && f.quantizedTop1() != null ? String.format(java.util.Locale.ROOT,
                    "; top-1 %.2f %% → %.2f %%", 100 * f.top1(), 100 * f.quantizedTop1()) : "";
            rows.add(new String[] {"int8 (" + q.mode() + ")", String.format(java.util.Locale.ROOT, "%,d → %,d bytes%s",
                    f.bytes(), f.quantizedBytes(), acc), seconds(t.get("quantize"))});
        }
        ValidationSection v = r.validation();
        if (v != null) {
            String what = v.hasTop1() ? String.format(java.util.Locale.ROOT, "top-1 %.2f %% → **%.2f %%** (%+.2f points), "
                    + "agreement %.2f %% on %s images", 100 * v.original().top1(), 100 * v.candidate().top1(),
                    100 * (v.candidate().top1() - v.original().top1()), 100 * v.agreement(), v.samples())
                    : String.format(java.util.Locale.ROOT, "agreement %.2f %% on %s images (no labels)",
                    100 * v.agreement(), v.samples());
            rows.add(new String[] {"validation", what, seconds(t.get("validate"))});
        }
        rows.add(new String[] {"written", String.format(java.util.Locale.ROOT, "%,d bytes, %.3f× the input's %,d",
                r.output().bytes(), (double) r.output().bytes() / r.input().bytes(), r.input().bytes()),
                seconds(t.get("total")) + " in all"});
        sb.append("## Stages\n\n| stage | outcome | time |\n|---|---|---:|\n");
        for (String[] row : rows) {
            sb.append("| ").append(row[0]).append(" | ").append(row[1]).append(" | ").append(row[2]).append(" |\n");
        }
        sb.append('\n');
    }

    private static String seconds(Double s) {
        return s == null ? "" : s < 0.05 ? "< 0.1 s" : String.format(java.util.Locale.ROOT, "%.1f s", s);
    }

    private static void summaryRow(StringBuilder sb, String what, long before, long after) {
        sb.append(String.format("| %s | %,.0f | %,.0f | %.3f |%n", what, (double) before, (double) after,
                (double) after / before));
    }

    /**
     * The report of {@code acdc finetune} or {@code acdc train}: the models, the fine-tuning curve, the
     * write-back check and the validation (a compression report's other sections do not apply).
     */
    public static String render(TrainingReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.teacher() != null ? "# acdc fine-tuning report\n\n" : "# acdc training report\n\n");
        sb.append("`").append(r.input()).append("` → `").append(r.output()).append("`");
        if (r.teacher() != null) {
            sb.append(", teacher `").append(r.teacher()).append("`");
        }
        sb.append("\n\n");
        sb.append("**Verdict:** ").append(r.verdict()).append("\n\n");
        FineTuneSection run = r.run();
        if (run.settings() != null) {
            sb.append("Settings: ").append(run.settings().line()).append("\n");
        }
        appendFinetune(sb, run);
        sb.append(String.format("%nWrite-back check: ONNX Runtime on the written model against SameDiff on the trained "
                + "weights, max |logit difference| %.2g on a probe batch.%n", r.consistency().maxAbsLogitDiff()));
        appendValidation(sb, r.validation());
        return sb.toString();
    }

    /** The report of {@code acdc quantize}: sizes, what was quantized, per-layer errors, validation. */
    public static String render(QuantizeReport r) {
        StringBuilder sb = new StringBuilder("# acdc quantization report\n\n");
        sb.append("`").append(r.input()).append("` → `").append(r.output()).append("`\n\n");
        sb.append("**Verdict:** ").append(r.verdict()).append("\n\n");
        sb.append(String.format("| | bytes | parameters |%n|---|---:|---:|%n| float | %,d | %,d |%n| quantized | %,d | %,d |%n",
                r.inputBytes(), r.inputParams(), r.outputBytes(), r.outputParams()));
        appendOutputs(sb, r.verification());
        appendQuantization(sb, r.quantization());
        appendValidation(sb, r.validation());
        return sb.toString();
    }

    /**
     * Every output on the probe, where a model has several or one that is not [N, classes] (a detector's scores
     * and boxes, a segmenter's maps): its largest difference against the input model, relative to its scale, and
     * the argmax agreement over its class axis.
     */
    static void appendOutputs(StringBuilder sb, Verification v) {
        List<dev.acdc.runtime.Probe.OutputDiff> outs = v == null ? null : v.outputs();
        if (outs == null || outs.isEmpty() || outs.size() == 1 && outs.get(0).shape().length == 2) {
            return;
        }
        sb.append("\n## Outputs\n\nEvery float output of both models on the random probe batch ")
                .append(java.util.Arrays.toString(v.inputShape())).append(" (ONNX Runtime, CPU).\n\n")
                .append("| output | shape | max \\|diff\\| | scale | relative | argmax agreement |\n")
                .append("|---|---|---:|---:|---:|---:|\n");
        for (dev.acdc.runtime.Probe.OutputDiff d : outs) {
            sb.append(String.format(java.util.Locale.ROOT, "| `%s` | %s | %.3g | %.3g | %s | %s |%n",
                    Text.markdownCell(d.name()), java.util.Arrays.toString(d.shape()), d.maxAbsDiff(), d.outputScale(),
                    d.outputScale() > 0 ? String.format(java.util.Locale.ROOT, "%.3g %%", 100 * d.maxAbsDiff() / d.outputScale())
                            : "-",
                    Double.isNaN(d.agreement()) ? "-" : String.format(java.util.Locale.ROOT, "%.1f %% over axis %d",
                            100 * d.agreement(), d.classAxis())));
        }
    }

    /** The int8 section (shared with the compression report when it quantized). */
    static void appendQuantization(StringBuilder sb, QuantizationSection q) {
        if (q == null) {
            return;
        }
        sb.append("\n## int8 quantization (").append(q.mode()).append(")\n\n");
        sb.append("Weights: ").append(q.weights()).append(".\n");
        if (q.activations() != null) {
            sb.append("Activations: ").append(q.activations()).append(".\n");
        }
        CalibrationSample c = q.calibration();
        if (c != null) {
            sb.append("Calibration: ").append(c.images()).append(" images of ").append(c.data())
                    .append(" (").append(c.sample()).append(", seed ").append(c.seed()).append(").\n");
        }
        QuantizationSection.FloatModel fl = q.floatModel();
        if (fl != null) {
            sb.append(String.format("%nFloat model before quantization: %,d bytes%s.%n", fl.bytes(),
                    fl.top1() == null ? "" : String.format(", top-1 %s (int8: %s)", pct(fl.top1()),
                            pct(fl.quantizedTop1()))));
        }
        for (String o : q.keptFloat() == null ? List.<String>of() : q.keptFloat()) {
            sb.append("\nkept float: ").append(o);
        }
        for (String o : q.notes() == null ? List.<String>of() : q.notes()) {
            sb.append("\nnote: ").append(o);
        }
        List<QuantizationSection.LayerError> le = q.layerErrors();
        if (le != null && !le.isEmpty()) {
            sb.append(String.format("%n%nPer-layer output error against the float model on %s calibration images:%n%n",
                    q.layerErrorImages()));
            sb.append("| layer | relative error | SQNR dB |\n|---|---:|---:|\n");
            for (QuantizationSection.LayerError e : le) {
                sb.append(String.format("| %s | %s | %s |%n", e.layer(), Finite.format("%.4f", e.relativeError()),
                        e.sqnrDb() == null ? "exact" : String.format("%.1f", e.sqnrDb())));
            }
        }
        sb.append("\n");
    }

    private static void appendFinetune(StringBuilder sb, FineTuneSection ft) {
        if (ft == null || ft.epochs().isEmpty()) {
            return;
        }
        sb.append("\n## Fine-tuning\n\n").append(ft.trainData()).append("; ").append(ft.backend())
                .append(String.format("; %.0f s, %.0f images/s; epoch kept: %s (chosen by the %s)%n%n", ft.seconds(),
                        ft.imagesPerSecond(), ft.bestEpoch(),
                        ft.keptEpochChosenBy() == null ? "last epoch" : ft.keptEpochChosenBy()))
                .append(ft.selectionData() == null ? "" : "Selection split: " + ft.selectionData() + ".\n\n")
                .append("| epoch | mean loss | selection top-1 | eval top-1 (reported only) | seconds |\n"
                        + "|---:|---:|---:|---:|---:|\n");
        for (FineTuneSection.Epoch e : ft.epochs()) {
            sb.append(String.format("| %s%s | %.4f | %s | %s | %.0f |%n", e.epoch(),
                    e.epoch() == ft.bestEpoch() ? " (kept)" : "", e.loss(), pct(e.selectTop1()), pct(e.evalTop1()),
                    e.seconds()));
        }
    }

    private static void appendValidation(StringBuilder sb, ValidationSection v) {
        if (v == null) {
            return;
        }
        sb.append("\n## Validation\n\n").append(v.data()).append(", ONNX Runtime ").append(v.provider())
                .append("\n\n| | top-1 | top-5 |\n|---|---:|---:|\n");
        sb.append(String.format("| original | %s | %s |%n", pct(v.original().top1()), pct(v.original().top5())));
        sb.append(String.format("| candidate | %s | %s |%n", pct(v.candidate().top1()), pct(v.candidate().top5())));
        sb.append(String.format("%nagreement %.2f %%, logit difference max %.3g, mean %.3g%n", 100 * v.agreement(),
                v.maxAbsDiff(), v.meanAbsDiff()));
    }

    private static void appendNotes(StringBuilder sb, List<String> notes) {
        for (String n : notes) {
            sb.append("\nnote: ").append(Text.printable(n)).append('\n');
        }
    }

    static String pct(Double d) {
        return d == null ? "-" : String.format("%.2f %%", 100 * d);
    }
}
