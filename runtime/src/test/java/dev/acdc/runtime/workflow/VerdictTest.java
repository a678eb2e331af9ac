package dev.acdc.runtime.workflow;

import dev.acdc.runtime.ValidationResult;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerdictTest {
    private static ValidationResult validation(double top1a, double top1b, double agreement) {
        return new ValidationResult(1000, "cpu", "test", true, top1a, 0.99, top1b, 0.98, agreement, 1, 0.1, 1,
                dev.acdc.data.Preprocessing.defaults());
    }

    @Test
    void measuredRunsGiveTheDropAndLowAgreementIsAWarning() {
        Verdict v = Verdict.of(1000, 250, validation(0.81, 0.792, 0.9), null, true);
        assertEquals("top-1 -1.8 points, 4.0x smaller", v.line());
        assertEquals(List.of(), v.warnings());
        v = Verdict.of(1000, 250, validation(0.81, 0.30, 0.35), null, false);
        assertEquals(1, v.warnings().size());
        assertTrue(v.warnings().get(0).startsWith("the compressed model agrees with the original on only 35.0 % of the "
                + "1000 evaluation images"), v.warnings().get(0));
        assertTrue(v.warnings().get(0).endsWith("or fine-tune it (--train-data SPEC)"), v.warnings().get(0));
    }

    @Test
    void anOriginalThatIsMostlyWrongOnTheEvaluationDataIsAWarning() {
        Verdict v = Verdict.of(1000, 250, validation(0.275, 0.27, 0.9), null, true);
        assertEquals(1, v.warnings().size(), v.warnings().toString());
        assertTrue(v.warnings().get(0).startsWith("the original model itself is right on only 27.5 % of the 1,000 "
                + "labelled evaluation images"), v.warnings().get(0));
        assertEquals(List.of(), Verdict.of(1000, 250, validation(0.5, 0.49, 0.9), null, true).warnings());
        assertEquals(null, dev.acdc.runtime.OriginalAccuracy.warning(Double.NaN, 10, "calibration"));
        assertTrue(dev.acdc.runtime.OriginalAccuracy.warning(0.4999, 10, "calibration").contains("10 labelled calibration"));
    }

    @Test
    void unmeasuredRunsSaySoAndAFineTunedModelIsNotJudgedByItsStart() {
        var fit = new dev.acdc.report.OutputFitSection(new dev.acdc.report.CalibrationSample("test", 512, "512 images",
                1, null), 60, "residual sum", 0.2, 0.447, 2, 1, 1, 1, 2);
        Verdict v = Verdict.of(1000, 160, null, fit, false);
        assertEquals("not validated (no --eval-data): agrees with the original on 44.7 % of the calibration images, "
                + "6.3x smaller", v.line());
        assertTrue(v.warnings().get(0).contains("only 44.7 % of the 512 calibration images"), v.warnings().toString());
        // after fine-tuning, the calibration agreement describes the model before training: no figure, no warning
        v = Verdict.of(1000, 160, null, fit, true);
        assertEquals("not validated (no --eval-data): fine-tuned, accuracy unknown, 6.3x smaller", v.line());
        assertEquals(List.of(), v.warnings());
        v = Verdict.of(1000, 1100, null, null, false);
        assertEquals(2, v.warnings().size(), v.warnings().toString());
        assertTrue(v.line().endsWith("1.10x the input's size"), v.line());
    }
}
