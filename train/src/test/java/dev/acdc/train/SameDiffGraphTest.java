package dev.acdc.train;

import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.testing.Ort;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** SameDiff's forward pass equals ONNX Runtime's on the real models, before and after decomposition. */
class SameDiffGraphTest {

    @ParameterizedTest
    @CsvSource({"resnet20-cifar10.onnx,none", "resnet20-cifar10.onnx,layer", "resnet20-cifar10.onnx,stage",
        "resnet56-cifar10.onnx,none", "resnet56-cifar10.onnx,net", "resnet20-cifar10-bn-batch1.onnx,none",
        "resnet20-cifar10-bn-batch1.onnx,block", "mnist-8.onnx,none", "mnist-8.onnx,layer"})
    void forwardMatchesOnnxRuntime(String name, String share) {
        Model m = OnnxModels.load(SharedFiles.model(name));
        if (share.equals("none")) {
            PassManager.standard().run(m);
        } else {
            Compressor.compress(m, Settings.of(share, null, name.startsWith("mnist") ? "8" : null, null, null), s -> { });
        }
        byte[] bytes = OnnxModels.toBytes(m);
        int batch = name.contains("batch1") || name.contains("mnist") ? 1 : 4;
        long[] shape = Ort.inputShape(m, batch);
        float[] x = Ort.randomInput(shape, 5);
        float[] ort = Ort.run(bytes, x, shape);
        SameDiffGraph g = SameDiffGraph.build(m, n -> true);
        float[] sd = g.output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        double d = Ort.maxAbsDiff(ort, sd);
        assertTrue(d <= 1e-3, name + "/" + share + ": max |logit diff| " + d);
    }
}
