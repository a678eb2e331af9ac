package dev.acdc;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The core library (this module: IR, ONNX I/O, passes, decomposition, export, int8, data) must stay
 * usable without ND4J, and neither the training code nor the builders of test models may come back
 * into its jar. Run on this module's own test class path, which holds only what the core depends on.
 */
class ModuleBoundaryTest {
    @Test
    void theCoreDoesNotPullNd4j() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.nd4j.linalg.factory.Nd4j"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.nd4j.autodiff.samediff.SameDiff"));
    }

    @Test
    void trainingAndTestModelBuildersLiveInTheirOwnModules() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("dev.acdc.train.TrainingLoop"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("dev.acdc.testdata.TinyResNet"));
    }
}
