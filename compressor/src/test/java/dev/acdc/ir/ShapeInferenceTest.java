package dev.acdc.ir;

import dev.acdc.AcdcException;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShapeInferenceTest {

    private static long[] convOut(long[] x, long[] w, Attribute... attrs) {
        GraphBuilder b = GraphBuilder.create("g");
        String in = b.input("x", DataType.FLOAT, x);
        String wt = b.initializer("w", w, new float[(int) Tensor.numel(w)]);
        String y = b.op("Conv", "conv", List.of(in, wt), attrs);
        b.output(y, DataType.FLOAT);
        return ShapeInference.infer(Model.of(b.graph(), 13)).get(y).shape();
    }

    @Test
    void convolutionOutputSizes() {
        long[] x = {1, 8, 32, 32};
        long[] w = {16, 8, 3, 3};
        assertArrayEquals(new long[] {1, 16, 30, 30}, convOut(x, w));
        assertArrayEquals(new long[] {1, 16, 32, 32}, convOut(x, w, Attribute.ofInts("pads", 1, 1, 1, 1)));
        assertArrayEquals(new long[] {1, 16, 16, 16}, convOut(x, w, Attribute.ofInts("pads", 1, 1, 1, 1),
                Attribute.ofInts("strides", 2, 2)));
        assertArrayEquals(new long[] {1, 16, 28, 28}, convOut(x, w, Attribute.ofInts("dilations", 2, 2)));
        assertArrayEquals(new long[] {1, 16, 11, 11}, convOut(x, w, Attribute.ofString("auto_pad", "SAME_UPPER"),
                Attribute.ofInts("strides", 3, 3)));
        assertArrayEquals(new long[] {1, 8, 32, 32}, convOut(x, new long[] {8, 1, 3, 3},
                Attribute.ofInt("group", 8), Attribute.ofInts("pads", 1, 1, 1, 1)));
        assertArrayEquals(new long[] {-1, 16, 30, 30}, convOut(new long[] {-1, 8, 32, 32}, w));
    }

    @Test
    void groupMismatchIsAnError() {
        assertThrows(AcdcException.class, () -> convOut(new long[] {1, 8, 8, 8}, new long[] {4, 3, 3, 3}));
    }

    @Test
    void symbolicBatchFlowsThroughTinyModel() {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        var facts = ShapeInference.infer(m);
        String out = m.graph().outputs().get(0).name();
        assertArrayEquals(new long[] {-1, 5}, facts.get(out).shape());
        facts = ShapeInference.infer(m, Map.of("", new long[] {7, 3, 8, 8}));
        assertArrayEquals(new long[] {7, 5}, facts.get(out).shape());
    }

    @Test
    void pytorchFlattenChainResolvesWithSymbolicBatch() {
        Model m = OnnxModels.load(SharedFiles.model("resnet20-cifar10.onnx"));
        var facts = ShapeInference.infer(m);
        assertArrayEquals(new long[] {-1, 10}, facts.get("logits").shape());
        // the option-A shortcut pads are computed from constants: [0,8,0,0, 0,8,0,0]
        Node pad = m.graph().nodes().stream().filter(n -> n.is("Pad")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {0, 8, 0, 0, 0, 8, 0, 0}, facts.get(pad.input(1)).ints());
        assertArrayEquals(new long[] {-1, 32, 16, 16}, facts.get(pad.output(0)).shape());
    }

    @Test
    void everySharedModelInfersItsOutputShape() {
        for (String name : SharedFiles.MODELS) {
            Model m = OnnxModels.load(SharedFiles.model(name));
            var facts = ShapeInference.infer(m);
            long[] s = facts.get(m.graph().outputs().get(0).name()).shape();
            long classes = s[s.length - 1];
            assertTrue(classes == 10 || classes == 1000, name + " → " + java.util.Arrays.toString(s));
        }
    }
}
