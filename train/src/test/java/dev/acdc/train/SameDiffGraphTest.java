package dev.acdc.train;

import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.testing.Ort;
import dev.acdc.testing.SharedFiles;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.ShapeInference;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /**
     * One node of each lowering added for the torchvision exports, built in code: ONNX Runtime's output has
     * the shape acdc infers, and SameDiff's output equals it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"conv-group2-bias", "conv-group4-stride2", "maxpool-ceil-7", "maxpool-ceil-8-pads",
        "maxpool-asymmetric", "reducemean-hw-keep", "reducemean-c-drop", "resize-nearest-asymmetric-floor-x2",
        "resize-nearest-half_pixel-round_prefer_floor-to12", "resize-linear-half_pixel-to12",
        "resize-linear-pytorch_half_pixel-x2", "resize-linear-align_corners-to5", "resize-nearest-half_pixel-round_prefer_ceil-x1.5"})
    void loweringsMatchOnnxRuntime(String which) {
        Random r = new Random(which.hashCode());
        GraphBuilder b = GraphBuilder.create(which);
        long size = which.contains("-7") ? 7 : 8;
        String x = b.input("input", DataType.FLOAT, -1, 8, size, size);
        String y;
        if (which.startsWith("conv")) {
            long g = which.contains("group2") ? 2 : 4;
            long stride = which.contains("stride2") ? 2 : 1;
            String w = b.initializer("w", new long[] {12, 8 / g, 3, 3}, ModelGenerators.randn(r, (int) (12 * 8 / g * 9), 0.3));
            String bias = which.contains("bias") ? b.initializer("b", new long[] {12}, ModelGenerators.randn(r, 12, 0.3)) : null;
            y = b.conv("c", x, w, bias, g, new long[] {stride, stride}, new long[] {1, 1, 1, 1});
        } else if (which.startsWith("maxpool")) {
            long[] pads = which.contains("pads") ? new long[] {1, 1, 1, 1} : which.contains("asymmetric")
                    ? new long[] {0, 0, 1, 1} : new long[] {0, 0, 0, 0};
            y = b.op("MaxPool", "p", List.of(x), Attribute.ofInts("kernel_shape", 3, 3), Attribute.ofInts("strides", 2, 2),
                    Attribute.ofInts("pads", pads), Attribute.ofInt("ceil_mode", which.contains("ceil") ? 1 : 0));
        } else if (which.startsWith("resize")) {
            String[] p = which.split("-");
            String roi = b.initializer("roi", new long[] {0}, new float[0]);
            List<String> ins;
            if (which.contains("-to")) {
                long t = Long.parseLong(which.substring(which.indexOf("-to") + 3));
                ins = List.of(x, roi, "", b.initializer("sizes", new long[] {4}, new long[] {2, 8, t, t}));
            } else {
                float f = Float.parseFloat(which.substring(which.lastIndexOf("-x") + 2));
                ins = List.of(x, roi, b.initializer("scales", new long[] {4}, new float[] {1, 1, f, f}));
            }
            List<Attribute> at = new java.util.ArrayList<>(List.of(Attribute.ofString("mode", p[1]),
                    Attribute.ofString("coordinate_transformation_mode", p[2])));
            if (p[1].equals("nearest")) {
                at.add(Attribute.ofString("nearest_mode", p[3]));
            }
            b.graph().nodes().add(new dev.acdc.ir.Node("rs", "Resize", ins, List.of("rs_out"), at));
            y = "rs_out";
        } else {
            boolean hw = which.contains("hw");
            y = b.op("ReduceMean", "m", List.of(x), hw ? Attribute.ofInts("axes", 2, 3) : Attribute.ofInts("axes", 1),
                    Attribute.ofInt("keepdims", which.contains("keep") ? 1 : 0));
        }
        Model m = Model.of(b.graph(), 13);
        long[] inferred = ShapeInference.infer(m, java.util.Map.of("", new long[] {2, 8, size, size})).get(y).shape();
        b.output(y, DataType.FLOAT, inferred);
        byte[] bytes = OnnxModels.toBytes(m);
        long[] shape = {2, 8, size, size};
        float[] in = Ort.randomInput(shape, 3);
        float[] ort = Ort.run(bytes, in, shape);
        long n = 1;
        for (long d : inferred) {
            n *= d;
        }
        assertTrue(ort.length == n, which + ": ONNX Runtime gives " + ort.length + " values, inferred shape "
                + java.util.Arrays.toString(inferred));
        SameDiffGraph g = SameDiffGraph.build(m, v -> true);
        float[] sd = g.output(Nd4j.create(in, shape, 'c')).dup('c').data().asFloat();
        assertArrayEquals(new int[] {ort.length}, new int[] {sd.length}, which);
        assertTrue(Ort.maxAbsDiff(ort, sd) <= 1e-4, which + ": max |diff| " + Ort.maxAbsDiff(ort, sd));
    }
}
