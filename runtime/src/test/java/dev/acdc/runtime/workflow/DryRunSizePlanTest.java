package dev.acdc.runtime.workflow;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.decompose.Settings;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A size plan compresses its allocations with the run's fit, so --dry-run plans it as that many fits: with
 * the output fit, several times the output fit's own estimate (ResNet-20 --target-size 0.3: planned 65 s,
 * took 47 s; planned as SVD fits it was 5 s).
 */
class DryRunSizePlanTest {
    @TempDir
    Path tmp;

    @Test
    void aSizePlanWithTheOutputFitIsPlannedAsOutputFits() {
        Path model = tmp.resolve("m.onnx");
        OnnxModels.save(ModelGenerators.residual(3, 8, 16, 5, 1), model, null);
        try (SyntheticDataset data = new SyntheticDataset(32, 3, 8, 8, 5, 1)) {
            CompressionJob.Request r = CompressionJob.Request.of(model, Settings.defaults(), tmp.resolve("o.onnx"))
                    .withCalibration(new CompressionJob.Calibration(data, Preprocessing.defaults(), 32, 1));
            r = r.withPlan(r.plan().withTargetSize(0.6).withSensitivityImages(0));
            DryRun.Plan plan = DryRun.of(r, JobListener.silent());
            DryRun.Step size = plan.steps().stream().filter(s -> s.stage().equals("size plan")).findFirst().orElseThrow();
            DryRun.Step fit = plan.steps().stream().filter(s -> s.stage().equals("fit")).findFirst().orElseThrow();
            assertTrue(size.what().contains("with the output fit") && fit.what().startsWith("output fit"), plan.steps()
                    .toString());
            assertTrue(size.seconds() >= DryRun.SIZE_PLAN_ALLOCATIONS * fit.seconds(), size + " vs " + fit);
        }
    }
}
