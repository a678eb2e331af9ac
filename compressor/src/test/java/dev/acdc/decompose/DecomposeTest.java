package dev.acdc.decompose;

import dev.acdc.linalg.LowRank;
import dev.acdc.linalg.LowRankTest;

import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecomposeTest {

    private static Model cleaned(String name) {
        Model m = OnnxModels.load(SharedFiles.model(name));
        PassManager.standard().run(m);
        return m;
    }

    @Test
    void resnet20LayerPlanMatchesTheDesign() {
        Model m = cleaned("resnet20-cifar10.onnx");
        Plan p = Planner.plan(m, Settings.of("layer", null, null, null, null));
        assertEquals(16, p.group(), "auto group of ResNet-20");
        assertEquals(19, p.convs().size());
        ConvPlan first = p.convs().get(0);
        assertFalse(first.decomposed());
        assertEquals("first conv: 3 input channels < group size 16", first.reason());
        // with an explicit group no wider than the conv, the reason is the 8-channel floor, not the group
        Model narrow = ModelGenerators.residual(4, 8, 16, 5, 1);
        Plan p4 = Planner.plan(narrow, Settings.of("layer", null, "4", null, null));
        assertEquals("first conv: 4 input channels < the minimum of 8", p4.convs().get(0).reason());
        assertEquals(18, p.sets().size());
        long dense = 0;
        long acdc = 0;
        for (SharingSet s : p.sets()) {
            assertEquals(6, s.atoms());
            dense += s.denseParams();
            acdc += s.acdcParams();
        }
        // 12.8 % of the 3x3 weights (the stem stays dense)
        double kept = (acdc + first.denseParams()) / (double) (dense + first.denseParams());
        assertEquals(0.128, kept, 0.0006);
    }

    @Test
    void resnet18AutoGroupIs64() {
        Plan p = Planner.plan(cleaned("resnet18-imagenet-random.onnx"), Settings.defaults());
        assertEquals(64, p.group());
    }

    @Test
    void blocksAndStagesComeFromTheGraph() {
        Model m = cleaned("resnet20-cifar10.onnx");
        Plan block = Planner.plan(m, Settings.of("block", null, null, null, null));
        Plan stage = Planner.plan(m, Settings.of("stage", null, null, null, null));
        Plan net = Planner.plan(m, Settings.of("net", null, null, null, null));
        // 9 residual blocks of two convs; the first block of stages 2 and 3 has 32x16 / 64x32 convs whose
        // blocks are 16x16 like the rest, so each residual block is one set
        Map<String, Integer> perSet = new TreeMap<>();
        for (ConvPlan c : block.decomposed()) {
            perSet.merge(c.setId(), 1, Integer::sum);
        }
        assertEquals(9, perSet.size(), perSet.toString());
        perSet.values().forEach(v -> assertEquals(2, v));
        assertEquals(3, stage.sets().size(), "three stages of equal width and resolution");
        assertEquals(List.of(6, 6, 6), stage.sets().stream().map(s -> s.members().size()).toList());
        assertEquals(1, net.sets().size());
        assertEquals(net.decomposed().stream().mapToInt(ConvPlan::blocks).sum(), net.sets().get(0).blocks());
    }

    /** What inspect shows as a conv's block and stage is the unit the planner shares it over. */
    @Test
    void inspectNamesTheUnitsThePlannerShares() {
        dev.acdc.inspect.ModelSummary summary = dev.acdc.inspect.Inspector.inspect(
                SharedFiles.model("resnet20-cifar10.onnx"), null);
        assertEquals(3, summary.residual().stages());
        assertEquals(9, summary.residual().residualBlocks());
        Model m = cleaned("resnet20-cifar10.onnx");
        Plan block = Planner.plan(m, Settings.of("block", null, null, null, null));
        Plan stage = Planner.plan(m, Settings.of("stage", null, null, null, null));
        Map<String, dev.acdc.inspect.ConvInfo> byName = new java.util.HashMap<>();
        summary.convs().forEach(c -> byName.put(c.name(), c));
        for (ConvPlan c : block.decomposed()) {
            assertEquals("block" + byName.get(c.name()).block(), c.setId(), c.name());
        }
        for (ConvPlan c : stage.decomposed()) {
            assertEquals("stage" + byName.get(c.name()).stage(), c.setId(), c.name());
        }
        assertEquals(18, block.decomposed().size());
    }

    @Test
    void networkWithoutResidualsSaysSo() {
        Model m = cleaned("mnist-8.onnx");
        Plan p = Planner.plan(m, Settings.of("block", null, "8", null, null));
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("no residual merges")), p.notes().toString());
    }

    @Test
    void excludeKeepsConvsDense() {
        Plan p = Planner.plan(cleaned("resnet20-cifar10.onnx"), Settings.of("layer", null, null, null, "layer3"));
        assertTrue(p.convs().stream().filter(c -> c.name().contains("layer3"))
                .allMatch(c -> "excluded by --exclude".equals(c.reason())));
    }

    @Test
    void depthwiseConvsAreKeptDenseWithAReason() {
        Plan p = Planner.plan(cleaned("mobilenet_v2-imagenet-random.onnx"), Settings.defaults());
        assertTrue(p.convs().stream().filter(c -> c.spatial() && c.group() > 1)
                .allMatch(c -> c.reason() != null && c.reason().contains("depthwise")));
    }

    /** Σ_s‖B_s − α·D_s‖² equals the discarded singular energy of the set's matrix (oracle: commons-math SVD). */
    @ParameterizedTest
    @CsvSource({"resnet20-cifar10.onnx,layer", "resnet20-cifar10.onnx,block", "resnet20-cifar10.onnx,stage",
        "resnet20-cifar10.onnx,net", "resnet56-cifar10.onnx,stage"})
    void svdErrorIdentity(String name, String share) {
        Model m = cleaned(name);
        Plan p = Planner.plan(m, Settings.of(share, null, null, null, null));
        Decomposition d = Decomposition.fit(p, m.graph());
        for (SharingSet s : p.sets()) {
            double err = 0;
            double[] mat = setMatrix(s, m);
            for (ConvPlan c : s.members()) {
                float[] w = m.graph().initializer(c.node().input(1)).floats();
                float[] w2 = d.kernel(c);
                double e = 0;
                double n = 0;
                for (int i = 0; i < w.length; i++) {
                    e += (w[i] - w2[i]) * (double) (w[i] - w2[i]);
                    n += (double) w[i] * w[i];
                }
                err += e;
                assertEquals(Math.sqrt(e / n), d.relError(c), 1e-9, "reported relError of " + c.name());
            }
            int r = s.go * s.gi;
            int cols = mat.length / r;
            double oracle = LowRankTest.discardedByOracle(mat, r, cols, s.atoms());
            // α and D are stored as float32: allow their rounding on top of the 1e-6 identity
            assertEquals(oracle, err, 1e-6 * oracle + 1e-6 * d.fit(s.id()).totalEnergy(), s.id());
            assertEquals(oracle, d.fit(s.id()).discardedEnergy(), 1e-6 * oracle + 1e-9, s.id());
        }
    }

    /** The set's matrix built independently of Decomposition.gather: rows (o',i'), columns (block, tap). */
    static double[] setMatrix(SharingSet s, Model m) {
        List<double[]> cols = new ArrayList<>();
        int k = s.kh * s.kw;
        for (ConvPlan c : s.members()) {
            Tensor w = m.graph().initializer(c.node().input(1));
            long in = w.dim(1);
            float[] v = w.floats();
            for (int bo = 0; bo < c.out / s.go; bo++) {
                for (int bi = 0; bi < in / s.gi; bi++) {
                    for (int t = 0; t < k; t++) {
                        double[] col = new double[s.go * s.gi];
                        for (int o = 0; o < s.go; o++) {
                            for (int i = 0; i < s.gi; i++) {
                                col[o * s.gi + i] = v[(int) ((((bo * s.go + o) * in) + bi * s.gi + i) * k + t)];
                            }
                        }
                        cols.add(col);
                    }
                }
            }
        }
        int r = s.go * s.gi;
        double[] mat = new double[r * cols.size()];
        for (int j = 0; j < cols.size(); j++) {
            for (int i = 0; i < r; i++) {
                mat[i * cols.size() + j] = cols.get(j)[i];
            }
        }
        return mat;
    }

    @ParameterizedTest
    @CsvSource({"layer", "block", "stage", "net"})
    void parameterCountsFollowTheFormula(String share) {
        Model m = cleaned("resnet20-cifar10.onnx");
        long before = m.graph().parameterCount();
        Compressor.Result r = Compressor.compress(m, Settings.of(share, null, null, null, null), s -> { });
        long dense = 0;
        long formula = 0;
        for (SharingSet s : r.plan().sets()) {
            dense += s.denseParams();
            formula += (long) s.go * s.gi * s.atoms() + (long) s.blocks() * s.atoms() * s.kh * s.kw;
        }
        assertEquals(before - dense + formula, r.model().graph().parameterCount());
        // each set's coefficients are stored once, each conv's atoms once
        assertEquals(r.plan().sets().size(), r.model().graph().initializers().keySet().stream()
                .filter(n -> n.endsWith("/coefficients")).count());
        assertEquals(r.plan().decomposed().size(), r.model().graph().initializers().keySet().stream()
                .filter(n -> n.endsWith("/atoms")).count());
        // the file's bytes track the parameters: 4 bytes each plus a small graph
        long bytes = OnnxModels.toBytes(r.model()).length;
        assertTrue(bytes > 4 * r.model().graph().parameterCount() && bytes < 4 * r.model().graph().parameterCount() + 60_000,
                "bytes " + bytes);
        assertEquals(share, r.model().metadata().get("acdc.share"));
    }

    /** --share=layer --group=64 --atoms=9 reproduces the original (both forms) in ONNX Runtime on eembc200. */
    @ParameterizedTest
    @CsvSource({"resnet20-cifar10.onnx,reconstruct", "resnet20-cifar10.onnx,factorized",
        "resnet56-cifar10.onnx,reconstruct", "resnet56-cifar10.onnx,factorized",
        "resnet20-cifar10-bn-batch1.onnx,reconstruct", "resnet20-cifar10-bn-batch1.onnx,factorized"})
    void fullRankIsExactInOnnxRuntime(String name, String form) {
        Model original = OnnxModels.load(SharedFiles.model(name));
        byte[] originalBytes = OnnxModels.toBytes(original);
        Model m = OnnxModels.load(SharedFiles.model(name));
        Compressor.Result r = Compressor.compress(m, Settings.of("layer", "9", "64", form, null), s -> { });
        assertEquals(r.plan().convs().stream().filter(ConvPlan::spatial).count() - 1, r.plan().decomposed().size(),
                "all spatial convs but the 3-channel stem");
        boolean batch1 = name.contains("batch1");
        dev.acdc.data.Preprocessing pre = batch1
                ? dev.acdc.data.Preprocessing.parse("1/255", "0.4914,0.4822,0.4465", "0.2470,0.2435,0.2616", null)
                : dev.acdc.data.Preprocessing.parse("1/255", "0.485,0.456,0.406", "0.229,0.224,0.225", null);
        try (dev.acdc.data.Dataset ds = dev.acdc.data.DataSpec.open("cifar10:"
                + SharedFiles.require("data/cifar10/eembc200.bin"))) {
            int n = ds.size();
            byte[] px = new byte[n * 3072];
            ds.read(0, n, px, null);
            float[] x = new float[n * 3072];
            pre.apply(px, n, 3, 32, 32, x);
            long[] sample = {3, 32, 32};
            int batch = batch1 ? 1 : 50;
            float[] a = Ort.runBatched(originalBytes, x, sample, n, batch);
            float[] b = Ort.runBatched(OnnxModels.toBytes(r.model()), x, sample, n, batch);
            assertTrue(Ort.maxAbsDiff(a, b) < 1e-4, "max |logit diff| on eembc200: " + Ort.maxAbsDiff(a, b));
        }
    }

    @Test
    void lowRankFactorizedEqualsLowRankReconstruct() {
        // the two forms compute the same function for a lossy fit too
        Model a = cleaned("resnet20-cifar10.onnx");
        Model b = cleaned("resnet20-cifar10.onnx");
        Compressor.compress(a, Settings.of("stage", null, null, "reconstruct", null), s -> { });
        Compressor.compress(b, Settings.of("stage", null, null, "factorized", null), s -> { });
        long[] shape = {4, 3, 32, 32};
        float[] x = Ort.randomInput(shape, 2);
        assertTrue(Ort.relDiff(Ort.run(a, x, shape), Ort.run(b, x, shape)) < 1e-4);
    }

    @Test
    void tinyModelCompressesAndRuns() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 7);
        Compressor.Result r = Compressor.compress(m, Settings.of("net", "4", "8", null, null), s -> { });
        assertEquals(2, r.plan().decomposed().size(), "the block's two 16x16 convs; the 3-channel stem stays dense");
        assertNotNull(Ort.run(r.model(), Ort.randomInput(new long[] {2, 3, 8, 8}, 1), new long[] {2, 3, 8, 8}));
        assertTrue(r.model().opset() >= 13);
    }

    @Test
    void modelWithoutSpatialConvolutionIsRefused() {
        AcdcException e = assertThrows(AcdcException.class, () -> Planner.plan(simpleGemmOnly(), Settings.defaults()));
        assertTrue(e.getMessage().contains("no 1-D or 2-D convolution"), e.getMessage());
    }

    /** A model of 1-D convolutions (speech, time series) is refused naming them, and int8 as what works. */
    @Test
    void oneDimensionalConvolutionsAreDecomposedExactlyAtFullRankAndThreeDIsNamed() {
        Model m = conv1d(2);
        byte[] original = OnnxModels.toBytes(m);
        long[] shape = {2, 4, 64};
        float[] x = Ort.randomInput(shape, 4);
        float[] want = Ort.run(original, x, shape);
        // full rank: atoms = taps (5); a 1-D atom has kh taps, the written kernel is [O, I, k] again
        for (String form : new String[] {"reconstruct", "factorized"}) {
            Compressor.Result full = Compressor.compress(conv1d(2), Settings.of("layer", "5", "32", form, null), s -> { });
            assertEquals(List.of("c2"), full.plan().decomposed().stream().map(ConvPlan::name).toList(),
                    full.plan().convs().stream().map(c -> c.name() + ": " + c.reason()).toList().toString());
            assertTrue(full.plan().decomposed().stream().allMatch(ConvPlan::oneD));
            assertTrue(Ort.relDiff(want, Ort.run(full.model(), x, shape)) < 1e-5, form + " at full rank");
            for (ConvPlan cp : full.plan().decomposed()) {
                assertTrue(full.decomposition().relError(cp) < 1e-6);
            }
        }
        // the default is smaller and runs
        Compressor.Result lossy = Compressor.compress(conv1d(2), Settings.defaults(), s -> { });
        byte[] out = OnnxModels.toBytes(lossy.model());
        assertTrue(out.length < original.length, out.length + " vs " + original.length);
        assertEquals(want.length, Ort.run(out, x, shape).length);
        // 3-D convolutions are named, not taken for 2-D ones
        var b = dev.acdc.ir.GraphBuilder.create("video");
        String v = b.input("x", dev.acdc.ir.DataType.FLOAT, -1, 2, 4, 8, 8);
        String w3 = b.initializer("c.weight", new long[] {8, 2, 3, 3, 3}, ModelGenerators.randn(new java.util.Random(1), 432, 0.5));
        b.output(b.op("Conv", "c", List.of(v, w3), dev.acdc.ir.Attribute.ofInts("pads", 1, 1, 1, 1, 1, 1)),
                dev.acdc.ir.DataType.FLOAT, -1, 8, 4, 8, 8);
        AcdcException e = assertThrows(AcdcException.class, () -> Planner.plan(Model.of(b.graph(), 13), Settings.defaults()));
        assertTrue(e.getMessage().contains("no 1-D or 2-D convolution to decompose: it has 1 3-D convolution")
                && e.getMessage().contains("acdc quantize"), e.getMessage());
    }

    /** A speech-like 1-D CNN on [N, 4, 64]: conv 4→32 (k 5), Relu, conv 32→32 (k 5, stride 2), Relu, conv 32→32 (k 1). */
    private static Model conv1d(long seed) {
        java.util.Random r = new java.util.Random(seed);
        var b = dev.acdc.ir.GraphBuilder.create("tcn");
        String x = b.input("x", dev.acdc.ir.DataType.FLOAT, -1, 4, 64);
        String w1 = b.initializer("c1.weight", new long[] {32, 4, 5}, ModelGenerators.randn(r, 640, 0.3));
        String b1 = b.initializer("c1.bias", new long[] {32}, ModelGenerators.randn(r, 32, 0.1));
        String w2 = b.initializer("c2.weight", new long[] {32, 32, 5}, ModelGenerators.randn(r, 5120, 0.1));
        String w3 = b.initializer("c3.weight", new long[] {32, 32, 1}, ModelGenerators.randn(r, 1024, 0.1));
        String y = b.op("Relu", "r1", b.op("Conv", "c1", List.of(x, w1, b1), dev.acdc.ir.Attribute.ofInts("pads", 2, 2)));
        y = b.op("Relu", "r2", b.op("Conv", "c2", List.of(y, w2), dev.acdc.ir.Attribute.ofInts("pads", 2, 2),
                dev.acdc.ir.Attribute.ofInts("strides", 2)));
        y = b.op("Conv", "c3", List.of(y, w3));
        b.output(y, dev.acdc.ir.DataType.FLOAT, -1, 32, 32);
        return Model.of(b.graph(), 13);
    }

    private static Model simpleGemmOnly() {
        var b = dev.acdc.ir.GraphBuilder.create("fc");
        String x = b.input("x", dev.acdc.ir.DataType.FLOAT, -1, 4);
        String w = b.initializer("w", new long[] {3, 4}, new float[12]);
        String y = b.op("Gemm", "fc", List.of(x, w), dev.acdc.ir.Attribute.ofInt("transB", 1));
        b.output(y, dev.acdc.ir.DataType.FLOAT, -1, 3);
        return Model.of(b.graph(), 13);
    }

    @Test
    void badSettings() {
        assertThrows(AcdcException.class, () -> Settings.of("layer", "0", null, null, null));
        assertThrows(AcdcException.class, () -> Settings.of("galaxy", null, null, null, null));
        assertThrows(AcdcException.class, () -> Settings.of("layer", null, "-4", null, null));
        assertThrows(AcdcException.class, () -> Settings.of("layer", null, null, "zip", null));
        assertThrows(AcdcException.class, () -> Settings.of("layer", null, null, null, "(["));
    }

    /**
     * A MobileNet (depthwise and pointwise convs only) with its 1x1 convs kept dense (--pointwise dense) is
     * refused with where its weights sit by kind of conv, the shares counted here from the graph itself, and
     * what acdc can do instead.
     */
    @Test
    void aDepthwiseOnlyNetworkIsRefusedWithWhereItsWeightsSit() {
        Model m = OnnxModels.load(SharedFiles.model("mobilenet_v2-imagenet-random.onnx"));
        Model copy = OnnxModels.load(SharedFiles.model("mobilenet_v2-imagenet-random.onnx"));
        PassManager.standard().run(copy);
        long total = copy.graph().parameterCount();
        long depthwise = 0;
        long pointwise = 0;
        for (dev.acdc.ir.Node n : copy.graph().nodes()) {
            if (!n.is("Conv")) {
                continue;
            }
            Tensor w = copy.graph().initializer(n.input(1));
            if (n.attrInt("group", 1) > 1 && w.shape()[1] == 1) {
                depthwise += w.numel();
            } else if (w.shape()[2] * w.shape()[3] == 1) {
                pointwise += w.numel();
            }
        }
        AcdcException e = assertThrows(AcdcException.class,
                () -> Compressor.compress(m, Settings.of("layer", null, null, null, null).withPointwise(0), x -> { }));
        String msg = e.getMessage();
        assertTrue(msg.contains("pointwise 1x1 convs (kept dense by --pointwise dense)"), msg);
        assertTrue(msg.contains(String.format(java.util.Locale.ROOT, "%,d weights", total)), msg);
        assertTrue(msg.contains(String.format(java.util.Locale.ROOT, "%.1f %% in 17 depthwise convs", 100.0 * depthwise / total)), msg);
        assertTrue(msg.contains(String.format(java.util.Locale.ROOT, "%.1f %% in 34 pointwise 1x1 convs", 100.0 * pointwise / total)), msg);
        assertTrue(msg.contains("first conv: 3 input channels") && msg.contains("acdc quantize"), msg);
    }

    /**
     * The same MobileNetV2 by default: its 1x1 convs and classifier factored, at most half the bytes, and at full
     * rank (--pointwise full) the same outputs in ONNX Runtime.
     */
    @Test
    void mobileNetV2IsFactoredThroughItsPointwiseConvs() {
        byte[] original = OnnxModels.toBytes(OnnxModels.load(SharedFiles.model("mobilenet_v2-imagenet-random.onnx")));
        Compressor.Result r = Compressor.compress(OnnxModels.fromBytes(original, null), Settings.defaults(), x -> { });
        long bytes = OnnxModels.toBytes(r.model()).length;
        assertTrue(bytes <= 0.5 * original.length, bytes + " of " + original.length + " bytes");
        assertTrue(r.plan().decomposed().stream().anyMatch(c -> c.name().contains("classifier")), "the head too");
        Compressor.Result full = Compressor.compress(OnnxModels.fromBytes(original, null),
                Settings.defaults().withPointwise(Settings.FULL_RANK), x -> { });
        long[] shape = {1, 3, 224, 224};
        float[] in = Ort.randomInput(shape, 3);
        double d = Ort.relDiff(Ort.run(original, in, shape), Ort.run(full.model(), in, shape));
        assertTrue(d < 1e-4, "relative difference at full rank " + d);
    }

    /** torch.clamp(min=0) exports Clip(x, 0, +Inf): an infinite bound, not a non-finite weight. */
    @Test
    void aClipWithAnInfiniteBoundCompresses() {
        java.util.function.Supplier<Model> make = () -> {
            Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
            var g = m.graph();
            Node relu = g.nodes().stream().filter(n -> n.is("Relu")).findFirst().orElseThrow();
            int at = g.nodes().indexOf(relu);
            var b = new dev.acdc.ir.GraphBuilder(g).insertingAt(at);
            String lo = b.initializer("clamp.min", new long[] {}, new float[] {0f});
            String hi = b.initializer("clamp.max", new long[] {}, new float[] {Float.POSITIVE_INFINITY});
            g.nodes().set(g.nodes().indexOf(relu), new Node(relu.name(), "Clip", List.of(relu.input(0), lo, hi),
                    relu.outputs(), List.of()));
            return m;
        };
        long[] shape = {2, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 1);
        float[] a = Ort.run(make.get(), x, shape);
        assertTrue(dev.acdc.ir.NonFiniteWeights.describe(make.get().graph()).isEmpty());
        Compressor.Result r = Compressor.compress(make.get(), Settings.of("layer", "9", "16", null, null), s -> { });
        assertTrue(r.model().graph().nodes().stream().anyMatch(n -> n.is("Clip")));
        assertTrue(Ort.relDiff(a, Ort.run(r.model(), x, shape)) < 1e-4, "full rank, the Clip kept");
        // a NaN bound, or an Inf that a conv reads, is still refused
        Model bad = make.get();
        bad.graph().putInitializer(Tensor.ofFloats("clamp.max", new long[] {}, new float[] {Float.NaN}));
        assertEquals(1, dev.acdc.ir.NonFiniteWeights.describe(bad.graph()).size());
    }
}
