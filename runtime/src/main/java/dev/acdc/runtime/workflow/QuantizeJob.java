package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.data.Preprocessing;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.util.AtomicFiles;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.quantize.Quantizer;
import dev.acdc.report.ReportSchema;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;
import dev.acdc.runtime.WrittenModelCheck;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.util.Json;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
                          ReportSchema.Provenance provenance) {
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

    /** What was written: the report document, the bytes of both models, the validation, verdict and warning. */
    public record Outcome(Map<String, Object> document, Quantization.Outcome quantized, int originalBytes,
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
        ModelSummary before = ModelSummary.of(original, null, originalBytes.length);
        CalibrationImages images = null;
        CompressionJob.Calibration cal = r.calibration();
        if (cal != null) {
            images = CalibrationImages.sample(cal.data(), cal.pre(), cal.images(), cal.seed());
            listener.note("calibration images: " + images.subset().describe() + " of " + cal.data().describe());
        }
        Quantization.Outcome q = Quantization.run(original, r.quantize(), images, progress);
        byte[] bytes = OnnxModels.toBytes(q.model());
        ModelSummary after = ModelSummary.of(q.model(), null, bytes.length);
        double quantizeSeconds = (System.nanoTime() - t0) / 1e9;

        long[] probeShape = before.inputShape().clone();
        probeShape[0] = Math.max(2, probeShape[0]);
        listener.note("checking the output in ONNX Runtime on a probe batch " + java.util.Arrays.toString(probeShape));
        Probe.Comparison probe = Probe.compare(originalBytes, bytes, probeShape, 1234);

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", "quantize");
        json.put("input", model.toString());
        json.put("output", r.outputs().model().toString());
        json.put("inputBytes", originalBytes.length);
        json.put("outputBytes", bytes.length);
        json.put("inputParams", before.params());
        json.put("outputParams", after.params());
        json.put("quantization", q.json());
        Map<String, Object> verification = new LinkedHashMap<>(probe.json());
        verification.put("runtime", "onnxruntime (CPU)");
        verification.put("note", "random-input probe: it shows the model loads and runs; random inputs fall outside the "
                + "calibrated ranges, so the differences say little about accuracy");
        json.put("verification", verification);
        ValidationResult validation = null;
        CompressionJob.Evaluation ev = r.evaluation();
        if (ev != null) {
            listener.note("validating on " + ev.data().describe());
            validation = Validator.validate(originalBytes, bytes, ev.data(), ev.pre(), ev.options(), progress,
                    listener::validated);
            json.put("validation", validation.json());
        }
        String verdict = verdict(originalBytes.length, bytes.length, validation);
        json.put("verdict", verdict);
        String warning = bytes.length >= originalBytes.length ? String.format(Locale.ROOT, "the %s model (%,d bytes) is "
                + "not smaller than its input (%,d bytes): on a model this small the quantization's nodes, scales and "
                + "zero points outweigh the int8 weights%s", mode.id(), bytes.length, originalBytes.length,
                mode == Quantizer.Mode.STATIC ? "; --mode int8-weights stores less" : "") : null;
        if (warning != null) {
            json.put("warnings", List.of(warning));
        }
        json.put("seconds", quantizeSeconds);

        Preprocessing pre = cal != null ? cal.pre() : ev != null ? ev.pre() : null;
        Map<String, Object> doc = ReportSchema.stamp("quantize", r.provenance().withPreprocessing(pre), json);
        try (AtomicFiles.Staged staged = new AtomicFiles.Staged()) {
            staged.stage(r.outputs().model(), bytes, model, WrittenModelCheck.againstOutputs(probe.input(),
                    probe.candidateOutput(), probeShape, progress));
            staged.stage(r.outputs().report(), Json.write(doc) + "\n");
            ReportSchema.Rendered rendered = ReportSchema.render(doc);
            staged.stage(r.outputs().markdown(), rendered.markdown());
            staged.stage(r.outputs().html(), rendered.html());
            listener.checkpoint();
            staged.commit();
        }

        return new Outcome(doc, q, originalBytes.length, bytes, validation, verdict, warning);
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
