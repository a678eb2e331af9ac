package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.data.Preprocessing;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.quantize.Quantizer;
import dev.acdc.report.QuantizeReport;
import dev.acdc.report.ReportSchema;
import dev.acdc.report.ValidationSection;
import dev.acdc.report.Verification;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;
import dev.acdc.runtime.WrittenModelCheck;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.util.AtomicFiles;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * int8 for any supported CNN, decomposed or not, as {@code acdc quantize} runs it: (calibration sample),
 * quantize, check the output in ONNX Runtime on a probe batch, (validate against the float model), and
 * write the model with its reports, staged and atomic, never over the input.
 */
public final class QuantizeJob {
    private QuantizeJob() {
    }

    /**
     * One quantization; {@code calibration} (its fit settings are unused) is required for static int8,
     * {@code evaluation} may be null; {@code provenance} null: "Java API".
     */
    public record Request(Path model, Quantization.Request quantize, CompressionJob.Calibration calibration,
                          CompressionJob.Evaluation evaluation, OutputFiles.Outputs outputs,
                          ReportSchema.Provenance provenance, long[] inputShape) {
        public Request {
            if (model == null || quantize == null || outputs == null) {
                throw new IllegalArgumentException("model, quantize and outputs are required");
            }
            if (quantize.mode() == Quantizer.Mode.STATIC && calibration == null) {
                throw new AcdcException("--mode int8 needs calibration images: give --calibration-data SPEC");
            }
            if (provenance == null) {
                provenance = ReportSchema.Provenance.of("Java API (QuantizeJob)", null);
            }
        }
    }

    /** What was written: the report, the bytes of both models, the validation, verdict and warning. */
    public record Outcome(QuantizeReport report, Quantization.Outcome quantized, int originalBytes,
                          byte[] bytes, ValidationResult validation, String verdict, String warning) {
    }

    /** Runs {@code r}; the caller opened (and closes) its data sets. */
    public static Outcome run(Request r, JobListener listener) {
        r.outputs().checkAgainst(r.model()); // never over the input, whoever built the request
        var progress = OutputFiles.checked(listener);
        Path model = r.model();
        Quantizer.Mode mode = r.quantize().mode();
        long t0 = System.nanoTime();
        listener.note("loading " + model);
        byte[] originalBytes = OutputFiles.readAll(model);
        Model original = OnnxModels.load(model);
        PassThrough.prepare(original, originalBytes, r.inputShape(), listener);
        // a float16 model is quantized from its float32 widening, and the result keeps its interface
        dev.acdc.passes.WidenFloat16.Origin float16 = dev.acdc.passes.WidenFloat16.Origin.of(original);
        if (float16 != null) {
            listener.note("the model is float16: quantized from its float32 widening (exact); the written model "
                    + "computes in float32 behind Casts to its float16 inputs and outputs");
        }
        ModelSummary before = ModelSummary.of(original, r.inputShape(), originalBytes.length);
        if (before.openSpatialNote() != null) {
            listener.note(before.openSpatialNote());
        }
        CalibrationImages images = null;
        CompressionJob.Calibration cal = r.calibration();
        if (cal != null) {
            Validator.checkImagesFit(OutputFiles.declaredInput(original, before), cal.data(), cal.pre());
            images = CalibrationImages.sample(cal.data(), cal.pre(), cal.images(), cal.seed());
            listener.note("calibration images: " + images.subset().describe() + " of " + cal.data().describe());
        }
        Quantization.Outcome q = Quantization.run(original, r.quantize(), images, progress);
        if (float16 != null) {
            new dev.acdc.passes.PassManager(List.of(new dev.acdc.passes.NarrowToFloat16(float16, false))).run(q.model());
        }
        byte[] bytes = OnnxModels.toBytes(q.model());
        ModelSummary after = ModelSummary.of(q.model(), r.inputShape(), bytes.length);
        double quantizeSeconds = (System.nanoTime() - t0) / 1e9;

        long[] probeShape = Probe.shape(original, before.inputShape());
        listener.note("checking the output in ONNX Runtime on a probe batch " + java.util.Arrays.toString(probeShape));
        Probe.Comparison probe = Probe.compare(originalBytes, bytes, probeShape, 1234);

        Verification verification = Verification.of(probe, "random-input probe: it shows the model loads and runs; "
                + "random inputs fall outside the calibrated ranges, so the differences say little about accuracy");
        ValidationResult validation = null;
        CompressionJob.Evaluation ev = r.evaluation();
        if (ev != null) {
            listener.note("validating on " + ev.data().describe());
            validation = Validator.validate(originalBytes, bytes, ev.data(), ev.pre(), ev.options(), progress,
                    listener::validated);
        }
        String verdict = verdict(originalBytes.length, bytes.length, validation) + Verdict.outputsClause(probe.outputs());
        String warning = bytes.length >= originalBytes.length ? String.format(Locale.ROOT, "the %s model (%,d bytes) is "
                + "not smaller than its input (%,d bytes): on a model this small the quantization's nodes, scales and "
                + "zero points outweigh the int8 weights%s", mode.id(), bytes.length, originalBytes.length,
                mode == Quantizer.Mode.STATIC ? "; --mode int8-weights stores less" : "") : null;

        Preprocessing pre = cal != null ? cal.pre() : ev != null ? ev.pre() : null;
        QuantizeReport report = new QuantizeReport(ReportSchema.VERSION, QuantizeReport.KIND,
                r.provenance().withPreprocessing(pre), "quantize", model.toString(), r.outputs().model().toString(),
                originalBytes.length, bytes.length, before.params(), after.params(), q.section(), verification,
                validation == null ? null : ValidationSection.of(validation), verdict,
                warning == null ? null : List.of(warning), quantizeSeconds);
        try (AtomicFiles.Staged staged = new AtomicFiles.Staged()) {
            staged.stage(r.outputs().model(), bytes, model, WrittenModelCheck.againstOutputs(probe.input(),
                    probe.candidateOutput(), probeShape, progress));
            OutputFiles.stageReports(staged, r.outputs(), report);
            listener.checkpoint();
            staged.commit();
        }

        return new Outcome(report, q, originalBytes.length, bytes, validation, verdict, warning);
    }

    static String verdict(long bytesBefore, long bytesAfter, ValidationResult v) {
        String size = String.format(Locale.ROOT, "%.1fx smaller", (double) bytesBefore / Math.max(1, bytesAfter));
        if (v == null) {
            return "not validated (no --eval-data): accuracy unknown, " + size;
        }
        return Double.isNaN(v.drop())
                ? String.format(Locale.ROOT, "agreement %.1f %% with the float model, %s", 100 * v.agreement(), size)
                : String.format(Locale.ROOT, "top-1 %+.2f points, %s", -v.drop() + 0.0, size); // + 0.0: no "-0.00"
    }
}
