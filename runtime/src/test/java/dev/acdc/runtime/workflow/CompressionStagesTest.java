package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Settings;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The job is the list of its stages, a decomposition method's own among them. */
class CompressionStagesTest {
    private static List<String> names(List<CompressionStage> stages) {
        return stages.stream().map(s -> s.getClass().getSimpleName()).toList();
    }

    @Test
    void acdcAddsItsSizePlanAndSensitivityAfterTheCalibrationSample() {
        assertEquals(List.of("LoadStage", "CalibrationStage", "SizeTargetStage", "SensitivityStage", "FitStage",
                "RecoveryStage", "FineTuneStage", "EncodeStage", "VerifyStage", "ValidateStage", "WriteStage"),
                names(CompressionJob.stages("acdc")));
    }

    /** Another method (as one registered from another jar would be) runs the job's own stages and is refused a size plan. */
    @Test
    void aMethodWithoutStagesRunsTheJobsOwnAndIsRefusedASizeTarget() {
        List<String> other = names(CompressionJob.stages("fullrank"));
        assertEquals(9, other.size(), other.toString());
        assertTrue(!other.contains("SizeTargetStage") && !other.contains("SensitivityStage"), other.toString());
        Settings d = Settings.defaults();
        Settings fullrank = new Settings(d.share(), d.atoms(), d.group(), d.form(), d.exclude(), false, d.setAtoms(),
                "fullrank", d.pointwise());
        FitOptions svd = FitOptions.of(FitOptions.Mode.SVD);
        AcdcException e = assertThrows(AcdcException.class, () -> CompressionJob.Request.check(
                PlanOptions.of(fullrank).withTargetSize(0.3), svd, true, null, false, false));
        assertTrue(e.getMessage().contains("--method fullrank has no size plan"), e.getMessage());
        CompressionJob.Request.check(PlanOptions.of(d).withTargetSize(0.3), svd, true, null, false, false);
        CompressionJob.Request.check(PlanOptions.of(fullrank), svd, true, null, false, false);
    }
}
