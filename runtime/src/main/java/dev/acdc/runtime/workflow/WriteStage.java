package dev.acdc.runtime.workflow;

import dev.acdc.data.Preprocessing;
import dev.acdc.report.CompressReport;
import dev.acdc.report.ReportSchema;
import dev.acdc.report.OutputFitSection;
import dev.acdc.report.TextReport;
import dev.acdc.report.ValidationSection;
import dev.acdc.runtime.WrittenModelCheck;
import dev.acdc.util.AtomicFiles;

import java.util.ArrayList;
import java.util.List;

/**
 * The verdict and the report, and every output written at once: staged (written, flushed, the model read
 * back and checked against the probe's outputs) before any takes its name.
 */
final class WriteStage implements CompressionStage {
    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        OutputFitSection outputFit = s.fitter == null ? null : s.fitter.summary();
        Verdict verdict = Verdict.of(s.originalBytes.length, s.bytes.length, s.validation, outputFit,
                s.finetune != null, s.probe.outputs());
        List<String> notes = new ArrayList<>(s.c.notes());
        for (String w : verdict.warnings()) {
            notes.add(TextReport.WARNING + w);
        }
        CompressionJob.Calibration cal = r.calibration();
        CompressionJob.Evaluation ev = r.evaluation();
        Preprocessing pre = cal != null ? cal.pre() : r.fineTune() != null ? r.fineTune().pre()
                : ev != null ? ev.pre() : null;
        CompressReport report;
        long t = System.nanoTime();
        // the probe already ran the in-memory model on its batch: the written file must give those outputs.
        // every output is staged (written, flushed, the model read back) before any takes its name, so a
        // failure on the last one leaves all earlier files of a previous run as they were
        try (AtomicFiles.Staged staged = new AtomicFiles.Staged()) {
            staged.stage(r.output().files().model(), s.bytes, r.model(), WrittenModelCheck.againstOutputs(s.probe.input(),
                    s.probe.candidateOutput(), s.probeShape, s.progress));
            s.c.timings().put("write", s.seconds(t));
            s.c.timings().put("total", s.seconds(s.t0));
            // a request built through the Java API records its recipe from its options, as a command records its own
            ReportSchema.Provenance provenance = r.output().provenance().recipe() != null ? r.output().provenance()
                    : r.output().provenance().withRecipe(RequestRecipe.of(r));
            report = CompressReport.of(provenance.withPreprocessing(pre), s.decomposed, notes, s.c.timings(),
                    s.verification, outputFit, s.recoverySection, s.finetuneSection, s.consistency,
                    s.validation == null ? null : ValidationSection.of(s.validation), s.quantization, s.sensitivity,
                    verdict.line());
            OutputFiles.stageReports(staged, r.output().files(), report);
            s.listener.checkpoint(); // the last safe point: after it every output is renamed into place
            staged.commit();
        }
        s.outcome = new CompressionJob.Outcome(report, s.bytes, s.floatBytes.length, s.probeShape, s.probe,
                s.validation, s.floatValidation, s.quantized, verdict, r.output().files());
    }
}
