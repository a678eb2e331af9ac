package dev.acdc.runtime.workflow;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The default sensitivity sweep is sized by the model's cost: whole on the CIFAR ResNets, sampled or skipped at scale. */
class SensitivitySampleTest {
    private static CompressionJob.Calibration cal(int sensitivityImages) {
        return new CompressionJob.Calibration(new SyntheticDataset(8, 3, 8, 8, 2, 1), Preprocessing.defaults(), 512, 1, 0,
                true, sensitivityImages);
    }

    @Test
    void autoKeepsSmallModelsWholeAndSamplesOrSkipsLargeOnes() {
        CompressionJob.Calibration auto = cal(CompressionJob.Calibration.AUTO);
        assertEquals(128, auto.sensitivitySample(40_550_000L, 19), "ResNet-20 at 32x32");
        assertEquals(128, auto.sensitivitySample(125_750_000L, 55), "ResNet-56 at 32x32");
        // 1e13 / (6 * 20 * 1.82e9) = 45.8
        assertEquals(45, auto.sensitivitySample(1_820_000_000L, 20), "ResNet-18 at 224");
        assertEquals(0, auto.sensitivitySample(4_110_000_000L, 53), "ResNet-50 at 224: under 16 images, skipped");
        assertEquals(64, cal(64).sensitivitySample(4_110_000_000L, 53), "a count given is the count");
        assertEquals(0, cal(0).sensitivitySample(40_550_000L, 19));
    }
}
