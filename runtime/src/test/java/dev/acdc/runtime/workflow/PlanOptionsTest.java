package dev.acdc.runtime.workflow;

import dev.acdc.decompose.Settings;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The default sensitivity sweep is sized by the model's cost: whole on the CIFAR ResNets, sampled or skipped at scale. */
class PlanOptionsTest {
    private static PlanOptions cal(int sensitivityImages) {
        return PlanOptions.of(Settings.defaults()).withSensitivityImages(sensitivityImages);
    }

    @Test
    void autoKeepsSmallModelsWholeAndSamplesOrSkipsLargeOnes() {
        PlanOptions auto = cal(PlanOptions.AUTO);
        assertEquals(128, auto.sensitivitySample(40_550_000L, 19), "ResNet-20 at 32x32");
        assertEquals(128, auto.sensitivitySample(125_750_000L, 55), "ResNet-56 at 32x32");
        // 1e13 / (6 * 20 * 1.82e9) = 45.8
        assertEquals(45, auto.sensitivitySample(1_820_000_000L, 20), "ResNet-18 at 224");
        assertEquals(0, auto.sensitivitySample(4_110_000_000L, 53), "ResNet-50 at 224: under 16 images, skipped");
        assertEquals(64, cal(64).sensitivitySample(4_110_000_000L, 53), "a count given is the count");
        assertEquals(0, cal(0).sensitivitySample(40_550_000L, 19));
    }

    /** The plan's options check themselves, once, whoever builds them (the command binds them, the API calls them). */
    @Test
    void planOptionsRefuseWhatNoRunCanDo() {
        PlanOptions p = PlanOptions.of(Settings.defaults());
        assertThrows(dev.acdc.AcdcException.class, () -> p.withSensitivityImages(-2));
        assertThrows(dev.acdc.AcdcException.class, () -> p.withTargetSize(1.5));
        assertThrows(dev.acdc.AcdcException.class, () -> p.withTargetSize(0.0));
        assertThrows(dev.acdc.AcdcException.class, () -> p.withTargetDrop(-1.0));
        assertThrows(dev.acdc.AcdcException.class, () -> p.withTargetSize(0.3).withTargetDrop(1.0));
        assertEquals(0.3, p.withTargetSize(0.3).targetSize());
        assertThrows(dev.acdc.AcdcException.class, () -> new FitOptions(FitOptions.Mode.OUTPUT, -1, true, 1));
        assertThrows(dev.acdc.AcdcException.class, () -> new FitOptions(FitOptions.Mode.OUTPUT, 10, true,
                Double.NaN));
    }
}
