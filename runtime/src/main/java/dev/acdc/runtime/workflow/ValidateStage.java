package dev.acdc.runtime.workflow;

import dev.acdc.report.QuantizationSection;
import dev.acdc.report.ValidationSection;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;

import java.util.Locale;

/**
 * Both models on the evaluation data (and the float model too when int8 is written); then the checks a
 * request asks for on the result: --strict's size, and --target-drop's prediction against the measure.
 */
final class ValidateStage implements CompressionStage {
    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        CompressionJob.Evaluation ev = r.evaluation();
        if (ev != null) {
            long t = System.nanoTime();
            s.listener.note("validating on " + ev.data().describe());
            s.validation = validate(s.originalBytes, s.bytes, ev, s.listener);
            s.c.timings().put("validate", s.seconds(t));
        }
        if (s.quantized != null) {
            if (s.validation != null) {
                // the float model on the same evaluation images, so the report shows both
                s.listener.note("validating the float model before quantization on " + ev.data().describe());
                s.floatValidation = validate(s.originalBytes, s.floatBytes, ev, s.listener);
            }
            ValidationResult fv = s.floatValidation;
            boolean top1 = fv != null && fv.labels();
            s.quantization = s.quantized.section().withFloatModel(new QuantizationSection.FloatModel(
                    s.floatBytes.length, s.bytes.length, fv == null ? null : ValidationSection.of(fv),
                    top1 ? fv.candidateTop1() : null, top1 ? s.validation.candidateTop1() : null));
        }
        if (r.output().strict()) {
            CompressionJob.requireSmaller(s.bytes.length, s.originalBytes.length, "the output");
        }
        if (s.dropPlan != null && s.validation != null && s.validation.labels()) {
            s.c.notes().add(String.format(Locale.ROOT, "--target-drop %.2f: predicted %.2f points on the calibration "
                            + "images%s, measured %.2f on the evaluation data%s", r.plan().targetDrop(),
                    s.dropPlan.predictedDrop(), r.fineTune() != null ? " (before the fine-tune)" : "",
                    s.validation.drop(), s.validation.drop() <= r.plan().targetDrop() ? "" : ": more than asked for"));
        }
    }

    private static ValidationResult validate(byte[] original, byte[] candidate, CompressionJob.Evaluation ev,
                                             JobListener listener) {
        return Validator.validate(original, candidate, ev.data(), ev.pre(), ev.options(), OutputFiles.checked(listener),
                listener::validated);
    }
}
