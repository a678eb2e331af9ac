package dev.acdc.inspect;

import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectTest {

    /** Weights stored as Constant nodes (paddle2onnx's style) are parameters too: the same count as initializers. */
    /**
     * Parameters are weights: Resize's float scales [1, 1, 2, 2] are a size, not four parameters; inspect's count is
     * the sum of the convs' and the classifier's weights and biases.
     */
    @Test
    void sizesAreNotParameters() {
        int c = 3, w = 8, classes = 5;
        dev.acdc.ir.Model m = ModelGenerators.withUpsample(c, 16, w, classes, 1, 13);
        long weights = (long) w * c * 9 + 2L * w * w * 9 + (long) classes * w + classes;
        assertEquals(weights, ModelSummary.whatCanBeSeen(m, null, 0).params());
        assertEquals(weights, m.graph().parameterCount());
    }

    @Test
    void constantNodeWeightsAreCounted() {
        var m = ModelGenerators.residual(3, 8, 4, 5, 1);
        long params = ModelSummary.of(m, null, 0).params();
        var g = m.graph();
        int at = 0;
        for (dev.acdc.ir.Tensor t : new java.util.ArrayList<>(g.initializers().values())) {
            g.nodes().add(at++, new dev.acdc.ir.Node("const_" + t.name(), "Constant", java.util.List.of(),
                    java.util.List.of(t.name()), java.util.List.of(dev.acdc.ir.Attribute.ofTensor("value", t))));
            g.initializers().remove(t.name());
        }
        assertEquals(0, g.initializers().size());
        assertEquals(params, ModelSummary.of(m, null, 0).params(), "the same weights, stored as Constant nodes");
        assertTrue(params > 100);
    }

    /**
     * An operator acdc has no rule for does not stop inspect: it is listed, the convs after it show unknown
     * multiply-adds, and the total counts only what is known; the jobs' summary still refuses the model.
     */
    @Test
    void unsupportedOperatorsAreListedAndTheRestIsShown() {
        var m = ModelGenerators.residual(3, 8, 4, 5, 1);
        var nodes = m.graph().nodes();
        dev.acdc.ir.Node relu = nodes.get(1);
        assertEquals("Relu", relu.opType());
        nodes.set(1, new dev.acdc.ir.Node("up", "Upsample", relu.inputs(), relu.outputs(), java.util.List.of()));
        ModelSummary s = ModelSummary.whatCanBeSeen(m, null, 0);
        assertEquals(java.util.List.of("Upsample"), java.util.List.copyOf(s.unsupported().keySet()));
        assertEquals(3, s.convs().size(), "stem and both block convs are listed");
        assertEquals(4L * 3 * 9 * 8 * 8, s.convs().get(0).macs(), "the stem, before Upsample: 4x3x3x3 weights x 8x8 outputs");
        assertEquals(-1, s.convs().get(1).macs());
        assertEquals(-1, s.convs().get(2).macs());
        assertEquals(3, s.unsized(), "two convs and the Gemm after Upsample");
        assertEquals(4L * 3 * 9 * 8 * 8, s.macs());
        assertTrue(!s.macsComplete());
        assertEquals("4x4x3x3", s.convs().get(1).kernelString(), "kernels come from the weights, known regardless");
        org.junit.jupiter.api.Assertions.assertThrows(dev.acdc.AcdcException.class, () -> ModelSummary.of(m, null, 0));
    }

    /**
     * A declared input of symbolic height and width (which 1×1 could not pass: a 2x2 pool after the stem) is sized
     * at 224×224, and the summary says so.
     */
    @Test
    void symbolicSpatialSizeIsCountedAt224AndSaidSo() {
        var m = ModelGenerators.residual(3, 8, 4, 5, 1);
        var g = m.graph();
        dev.acdc.ir.ValueInfo in = g.inputs().get(0);
        g.inputs().set(0, new dev.acdc.ir.ValueInfo(in.name(), in.elemType(), java.util.List.of(dev.acdc.ir.ValueInfo.Dim.symbol("N"),
                dev.acdc.ir.ValueInfo.Dim.of(3), dev.acdc.ir.ValueInfo.Dim.symbol("H"), dev.acdc.ir.ValueInfo.Dim.symbol("W")), null));
        // a 2x2 pool after the stem: spatial size 1 is too small for it
        dev.acdc.ir.Node stemRelu = g.nodes().stream().filter(n -> n.name().equals("stem_relu")).findFirst().orElseThrow();
        String pooled = "pooled";
        for (dev.acdc.ir.Node n : g.nodes()) {
            n.replaceInput(stemRelu.output(0), pooled);
        }
        g.nodes().add(g.nodes().indexOf(stemRelu) + 1, new dev.acdc.ir.Node("pool2", "MaxPool", java.util.List.of(stemRelu.output(0)),
                java.util.List.of(pooled), java.util.List.of(dev.acdc.ir.Attribute.ofInts("kernel_shape", 2, 2),
                dev.acdc.ir.Attribute.ofInts("strides", 2, 2))));
        ModelSummary open = ModelSummary.of(m, null, 0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {1, 3, 224, 224}, open.inputShape());
        assertTrue(open.openSpatialNote().contains("H, W open") && open.openSpatialNote().contains("--input-shape"),
                open.openSpatialNote());
        assertEquals(null, ModelSummary.of(m, new long[] {1, 3, 8, 8}, 0).openSpatialNote());
        assertEquals(1, ModelSummary.of(m, new long[] {1, 3, 8, 8}, 0).convs().get(0).strides()[0], "fine with the shape given");
    }

    @Test
    void resnet18CountsMatchTheArchitecture() {
        ModelSummary s = Inspector.inspect(SharedFiles.model("resnet18-imagenet-random.onnx"), new long[] {1, 3, 224, 224});
        // torchvision counts 11 689 512 with BN's γ and β; the exporter folded BN into conv biases and
        // de-duplicated the (all-zero, random-init) biases, so the file stores 11 680 872 values.
        assertEquals(11_680_872, s.params());
        assertTrue(Math.abs(s.params() - 11_689_512) < 0.01 * 11_689_512);
        // 1.814 G multiply-adds: convolutions plus the 512x1000 classifier
        assertEquals(1_814_073_344L, s.macs());
        assertEquals(20, s.convs().size());
        assertEquals(17, s.convs().stream().filter(ConvInfo::spatial).count());
        ConvInfo stem = s.convs().get(0);
        assertEquals("64x3x7x7", stem.kernelString());
        assertEquals(2, stem.strides()[0]);
        assertEquals(64L * 3 * 49 * 112 * 112, stem.macs());
    }

    @Test
    void resnet20Has027MParameters() {
        ModelSummary s = Inspector.inspect(SharedFiles.model("resnet20-cifar10.onnx"), null);
        assertEquals(269_034, s.params());
        assertEquals(19, s.convs().size());
        assertEquals(38, s.ops().get("Constant"));
    }

    @Test
    void macsScaleWithTheInputShape() {
        var m = ModelGenerators.residual(3, 8, 4, 5, 1);
        ModelSummary one = ModelSummary.of(m, new long[] {1, 3, 8, 8}, 0);
        ModelSummary four = ModelSummary.of(m, new long[] {4, 3, 16, 16}, 0);
        assertEquals(16 * (one.macs() - 20) + 4 * 20, four.macs(),
                "convs scale with batch x pixels, the classifier with batch only");
        // by hand: stem 4*3*9*64 + 2 convs 4*4*9*64 + fc 5*4
        assertEquals(4 * 3 * 9 * 64 + 2 * 4 * 4 * 9 * 64 + 5 * 4, one.macs());
    }

    @Test
    void depthwiseAndPointwiseKinds() {
        ModelSummary s = Inspector.inspect(SharedFiles.model("mobilenet_v2-imagenet-random.onnx"), null);
        assertTrue(s.convs().stream().anyMatch(c -> c.kind().equals("depthwise")));
        assertTrue(s.convs().stream().anyMatch(c -> c.kind().equals("1x1")));
    }
}
