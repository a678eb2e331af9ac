package dev.acdc.passes;

import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each pass leaves ONNX Runtime's outputs unchanged and the graph smaller where it applies. */
class PassesTest {

    private static long count(Model m, String op) {
        return m.graph().nodes().stream().filter(n -> n.is(op)).count();
    }

    /** Runs the pass, checks it changed something, and that outputs stay equal (1e-5 of scale). */
    private static Model checkPass(Pass p, Model m, int batch, boolean expectChange) {
        long[] shape = Ort.inputShape(m, batch);
        float[] x = Ort.randomInput(shape, 11);
        float[] before = Ort.run(m, x, shape);
        int nodesBefore = m.graph().nodes().size();
        var results = new PassManager(java.util.List.of(p)).run(m);
        if (expectChange) {
            assertTrue(results.get(0).changes() > 0, p.name() + " should change the graph");
            assertTrue(m.graph().nodes().size() < nodesBefore, "the graph gets smaller");
        }
        float[] after = Ort.run(m, x, shape);
        double d = Ort.relDiff(before, after);
        assertTrue(d <= 1e-5, p.name() + ": outputs moved by " + d + " of their scale");
        for (Condition c : p.ensures()) {
            assertNull(c.violation(m), c.name());
        }
        return m;
    }

    /** A layer-shared ACDC model of a small residual net, through the file (reconstruct form: a Reshape target per conv). */
    private static Model compressedResidual() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 2);
        dev.acdc.decompose.Compressor.compress(m, dev.acdc.decompose.Settings.of("layer", "4", "8", "reconstruct", null),
                s -> { });
        return OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
    }

    /** Equal integer constants become one; weights (float tensors) stay apart; outputs are bit-for-bit the same. */
    @Test
    void shareEqualConstantsKeepsTheFunctionAndOneCopyOfEachConstant() {
        Model m = compressedResidual();
        long[] shape = Ort.inputShape(m, 2);
        float[] x = Ort.randomInput(shape, 5);
        float[] before = Ort.run(m, x, shape);
        int floats = (int) m.graph().initializers().values().stream().filter(t -> t.isFloat() && t.numel() > 1).count();
        int changes = new PassManager(java.util.List.of(new ShareEqualConstants())).run(m).get(0).changes();
        assertTrue(changes > 0, "the convs of a stage have equal Reshape targets");
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (dev.acdc.ir.Tensor t : m.graph().initializers().values()) {
            if (!t.isFloat()) {
                assertTrue(seen.add(t.type() + java.util.Arrays.toString(t.shape()) + java.util.Arrays.toString(t.longs())),
                        "two equal constants are left: " + t.name());
            }
        }
        assertEquals(floats, m.graph().initializers().values().stream().filter(t -> t.isFloat() && t.numel() > 1).count(),
                "every weight keeps its own tensor");
        assertEquals(0, Ort.relDiff(before, Ort.run(m, x, shape)), "the same arithmetic on the same values");
        assertEquals(0, new PassManager(java.util.List.of(new ShareEqualConstants())).run(m).get(0).changes(), "idempotent");
    }

    /**
     * Half-precision constants are compared by their values, as float ones are: two half scalars 0.25 and 0.5
     * (both 0 when truncated to an integer) stay apart, equal ones become one, and a half tensor of several
     * values is a weight and keeps its own.
     */
    @Test
    void halfPrecisionConstantsAreSharedOnlyWhenEqual() {
        dev.acdc.ir.Graph g = new dev.acdc.ir.Graph("g");
        g.inputs().add(new dev.acdc.ir.ValueInfo("x", dev.acdc.ir.DataType.FLOAT16, null, null));
        String[][] consts = {{"a", "0.25"}, {"b", "0.5"}, {"c", "0.25"}};
        String prev = "x";
        for (String[] c : consts) {
            g.putInitializer(dev.acdc.ir.Tensor.ofFloat16(c[0], new long[] {}, new float[] {Float.parseFloat(c[1])}));
            g.nodes().add(new dev.acdc.ir.Node("mul_" + c[0], "Mul", java.util.List.of(prev, c[0]),
                    java.util.List.of(prev + c[0]), java.util.List.of()));
            prev = prev + c[0];
        }
        for (String w : new String[] {"w1", "w2"}) {
            g.putInitializer(dev.acdc.ir.Tensor.ofFloat16(w, new long[] {2}, new float[] {0.125f, 0.75f}));
            g.nodes().add(new dev.acdc.ir.Node("add_" + w, "Add", java.util.List.of(prev, w),
                    java.util.List.of(prev + w), java.util.List.of()));
            prev = prev + w;
        }
        g.outputs().add(new dev.acdc.ir.ValueInfo(prev, dev.acdc.ir.DataType.FLOAT16, null, null));
        Model m = new Model(8, java.util.Map.of("", 13L), "test", "1", new java.util.LinkedHashMap<>(), g, null);
        assertEquals(1, new ShareEqualConstants().run(m), "c is a, nothing else is shared");
        assertEquals(java.util.Set.of("a", "b", "w1", "w2"), m.graph().initializers().keySet());
    }

    /**
     * Short names change nothing but the names: the outputs are the same, the interface keeps its names, no
     * node keeps one, the weight roles follow their tensors, and the file is smaller.
     */
    @Test
    void compactNamesKeepsTheFunctionTheInterfaceAndTheRoles() {
        Model m = compressedResidual();
        long[] shape = Ort.inputShape(m, 2);
        float[] x = Ort.randomInput(shape, 5);
        float[] before = Ort.run(m, x, shape);
        int bytesBefore = OnnxModels.toBytes(m).length;
        java.util.List<String> io = new java.util.ArrayList<>();
        m.graph().inputs().forEach(v -> io.add(v.name()));
        m.graph().outputs().forEach(v -> io.add(v.name()));
        var roles = dev.acdc.decompose.WeightRoles.of(m);
        java.util.Map<String, float[]> coefficientValues = new java.util.HashMap<>();
        roles.forEach((name, role) -> {
            if (role == dev.acdc.decompose.WeightRoles.Role.COEFFICIENTS) {
                coefficientValues.put(java.util.Arrays.toString(m.graph().initializer(name).floats()), null);
            }
        });
        int changes = new PassManager(java.util.List.of(
                new CompactNames(java.util.Set.of(dev.acdc.decompose.WeightRoles.KEY)))).run(m).get(0).changes();
        assertTrue(changes > 0);
        Model back = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        assertEquals(0, Ort.relDiff(before, Ort.run(back, x, shape)), "the same graph under other names");
        java.util.List<String> ioAfter = new java.util.ArrayList<>();
        back.graph().inputs().forEach(v -> ioAfter.add(v.name()));
        back.graph().outputs().forEach(v -> ioAfter.add(v.name()));
        assertEquals(io, ioAfter, "inputs and outputs keep their names");
        for (Node n : back.graph().nodes()) {
            assertEquals("", n.name(), "node names are cleared");
            for (String o : n.outputs()) {
                assertTrue(io.contains(o) || o.length() <= 2, "short name: " + o);
            }
        }
        var rolesAfter = dev.acdc.decompose.WeightRoles.of(back);
        assertEquals(roles.values().stream().sorted().toList(), rolesAfter.values().stream().sorted().toList(),
                "as many coefficients, atoms and dense weights as before");
        rolesAfter.forEach((name, role) -> {
            if (role == dev.acdc.decompose.WeightRoles.Role.COEFFICIENTS) {
                assertTrue(coefficientValues.containsKey(java.util.Arrays.toString(back.graph().initializer(name).floats())),
                        name + " is recorded as coefficients and holds coefficients");
            }
        });
        assertTrue(OnnxModels.toBytes(back).length < bytesBefore * 0.9, "the names were a good part of the file");
    }

    /**
     * A kernel chain of one block ({@code --group} as wide as the convs) has a Transpose that moves only axes
     * of size 1: its Reshape, Transpose, Reshape become one Reshape and ONNX Runtime computes the same outputs;
     * a chain of 2×2 blocks keeps its Transpose (it really reorders).
     */
    @Test
    void collapseReshapesOnlyWhereTheTransposeKeepsTheOrder() {
        for (String group : new String[] {"16", "8"}) {
            Model m = ModelGenerators.residual(3, 8, 16, 5, 2);
            dev.acdc.decompose.Compressor.compress(m, dev.acdc.decompose.Settings.of("layer", "4", group, "reconstruct", null),
                    s -> { });
            long[] shape = Ort.inputShape(m, 2);
            float[] x = Ort.randomInput(shape, 4);
            float[] before = Ort.run(m, x, shape);
            long transposes = m.graph().nodes().stream().filter(n -> n.is("Transpose")).count();
            assertTrue(transposes >= 2, "kernel chains: " + transposes);
            int collapsed = new CollapseReshapes().run(m);
            Model back = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
            assertEquals(0, Ort.relDiff(before, Ort.run(back, x, shape)), "group " + group + ": the same function");
            long left = back.graph().nodes().stream().filter(n -> n.is("Transpose")).count();
            if (group.equals("16")) {
                assertEquals(transposes, collapsed, "every one-block chain collapsed");
                assertEquals(0, left);
            } else {
                assertEquals(0, collapsed, "2x2 blocks really reorder");
                assertEquals(transposes, left);
            }
        }
        assertTrue(CollapseReshapes.keepsMemoryOrder(new long[] {4, 4, 1, 1, 3, 3}, new long[] {2, 0, 3, 1, 4, 5}));
        assertTrue(!CollapseReshapes.keepsMemoryOrder(new long[] {4, 4, 2, 1, 3, 3}, new long[] {2, 0, 3, 1, 4, 5}));
    }

    /**
     * Attributes that restate their operator's default go (a Conv's group=1, unit strides and dilations, its
     * kernel_shape; a Gemm's alpha=1), the others stay (non-zero pads), and ONNX Runtime computes
     * exactly the same outputs.
     */
    @Test
    void dropDefaultAttributesKeepsTheFunctionAndEveryOtherValue() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
        PassManager.standard().run(m);
        for (Node n : m.graph().nodes()) {
            if (n.is("Conv")) {
                n.setAttribute(dev.acdc.ir.Attribute.ofInts("dilations", 1, 1));
                n.setAttribute(dev.acdc.ir.Attribute.ofInt("group", 1));
            }
        }
        long[] shape = Ort.inputShape(m, 2);
        float[] x = Ort.randomInput(shape, 3);
        float[] before = Ort.run(m, x, shape);
        java.util.Map<String, java.util.Map<String, String>> kept = new java.util.LinkedHashMap<>();
        for (Node n : m.graph().nodes()) {
            java.util.Map<String, String> a = new java.util.TreeMap<>();
            n.attributes().forEach((k, v) -> a.put(k, v.toString()));
            kept.put(n.label(), a);
        }
        int removed = new DropDefaultAttributes().run(m);
        Model back = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        assertEquals(0, Ort.relDiff(before, Ort.run(back, x, shape)), "the same function");
        int padded = 0;
        int counted = 0;
        for (Node n : back.graph().nodes()) {
            java.util.Map<String, String> was = kept.get(n.label());
            counted += was.size() - n.attributes().size();
            if (n.is("Conv")) {
                for (String gone : new String[] {"dilations", "group", "kernel_shape"}) {
                    assertTrue(!n.attributes().containsKey(gone), n.label() + " keeps " + gone);
                }
                if (was.containsKey("pads") && !was.get("pads").equals("pads=[0, 0, 0, 0]")) {
                    assertEquals(was.get("pads"), n.attributes().get("pads").toString(), n.label() + " keeps its pads");
                    padded++;
                }
            }
        }
        assertEquals(removed, counted, "the count it returns");
        assertTrue(padded > 0, "the model has a padded conv");
        assertTrue(removed >= 3 * 3, "group, dilations and kernel_shape of every conv: " + removed);
        assertEquals(0, new DropDefaultAttributes().run(back), "a second run finds nothing");
    }

    /** Filters get the norm asked for, the scale moves into a Mul per conv, outputs stay; a second run does nothing. */
    @Test
    void normalizeFiltersKeepsTheFunctionAndSetsEveryNorm() {
        Model m = ModelGenerators.residual(3, 8, 6, 5, 4);
        PassManager.standard().run(m);
        long[] shape = Ort.inputShape(m, 3);
        float[] x = Ort.randomInput(shape, 11);
        float[] before = Ort.run(m, x, shape);
        var results = new PassManager(java.util.List.of(new NormalizeFilters(0.5))).run(m);
        assertEquals(3, results.get(0).changes(), "the stem and both block convs");
        assertTrue(Ort.relDiff(before, Ort.run(m, x, shape)) <= 1e-5, "the function is unchanged");
        for (Node conv : m.graph().nodes()) {
            if (!conv.is("Conv")) {
                continue;
            }
            float[] w = m.graph().initializer(conv.input(1)).floats();
            int o = (int) m.graph().initializer(conv.input(1)).shape()[0];
            int per = w.length / o;
            for (int k = 0; k < o; k++) {
                double sq = 0;
                for (int i = 0; i < per; i++) {
                    sq += w[k * per + i] * w[k * per + i];
                }
                assertEquals(0.5, Math.sqrt(sq), 1e-5, conv.name() + " filter " + k);
            }
            Node mul = m.graph().consumers(conv.output(0)).get(0);
            assertTrue(NormalizeFilters.isFilterScale(m.graph(), mul), conv.name() + " is followed by its scale");
        }
        assertEquals(0, new PassManager(java.util.List.of(new NormalizeFilters(0.5))).run(m).get(0).changes());
    }

    @Test
    void foldBatchNormOnTinyModel() {
        Model m = ModelGenerators.residual(3, 8, 6, 5, 4);
        assertEquals(2, count(m, "BatchNormalization"));
        checkPass(new FoldBatchNorm(), m, 3, true);
        assertEquals(0, count(m, "BatchNormalization"));
        assertTrue(m.graph().initializer("block_bn1.gamma") == null, "BN weights are gone");
    }

    @Test
    void foldBatchNormOnRealExport() {
        Model m = OnnxModels.load(SharedFiles.model("resnet20-cifar10-bn-batch1.onnx"));
        checkPass(new FoldBatchNorm(), m, 1, true);
        assertEquals(0, count(m, "BatchNormalization"));
    }

    @Test
    void foldConstantsFoldsTheFlattenChainOfAFixedBatchModel() {
        Model m = OnnxModels.load(SharedFiles.model("resnet20-cifar10-bn-batch1.onnx"));
        assertEquals(1, count(m, "Shape"));
        checkPass(new FoldConstants(), m, 1, true);
        for (String op : new String[] {"Shape", "Gather", "Unsqueeze", "Concat", "Constant"}) {
            assertEquals(0, count(m, op), op + " folded");
        }
        assertEquals(1, count(m, "Reshape"), "the Reshape stays, with a constant shape");
    }

    @Test
    void foldConstantsFoldsThePadArithmeticOfOptionAShortcuts() {
        Model m = OnnxModels.load(SharedFiles.model("resnet20-cifar10.onnx"));
        checkPass(new FoldConstants(), m, 2, true);
        assertEquals(0, count(m, "Constant"));
        assertEquals(0, count(m, "ConstantOfShape"));
        assertEquals(0, count(m, "Transpose"), "pads computed through Transpose are constants now");
        assertEquals(3, count(m, "Pad"));
    }

    @Test
    void resolveInitializerIdentitiesOnResNet18() {
        Model m = OnnxModels.load(SharedFiles.model("resnet18-imagenet-random.onnx"));
        assertEquals(16, count(m, "Identity"));
        checkPass(new ResolveInitializerIdentities(), m, 1, true);
        assertEquals(0, count(m, "Identity"));
        for (Node n : m.graph().nodes()) {
            if (n.is("Conv")) {
                assertTrue(m.graph().isInitializer(n.input(2)), "conv bias is an initializer");
            }
        }
    }

    @Test
    void dropIdentityAndDropout() {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 5);
        // put an Identity and a Dropout into the chain after the stem
        Node stemRelu = m.graph().nodes().get(1);
        String out = stemRelu.output(0);
        stemRelu.setOutput(0, "pre_id");
        m.graph().nodes().add(2, new Node("id", "Identity", java.util.List.of("pre_id"), java.util.List.of("mid"),
                java.util.List.of()));
        m.graph().nodes().add(3, new Node("drop", "Dropout", java.util.List.of("mid"), java.util.List.of(out),
                java.util.List.of()));
        checkPass(new DropIdentity(), m, 2, true);
        assertEquals(0, count(m, "Identity") + count(m, "Dropout"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20-cifar10.onnx", "resnet56-cifar10.onnx", "resnet20-cifar10-bn-batch1.onnx",
        "mnist-8.onnx", "resnet18-imagenet-random.onnx", "mobilenet_v2-imagenet-random.onnx"})
    void standardPipelineKeepsEveryRealModelsOutputs(String name) {
        Model m = OnnxModels.load(SharedFiles.model(name));
        long[] shape = Ort.inputShape(m, 1);
        float[] x = Ort.randomInput(shape, 3);
        float[] before = Ort.run(m, x, shape);
        PassManager.standard().run(m);
        double d = Ort.relDiff(before, Ort.run(m, x, shape));
        assertTrue(d <= 1e-5, name + ": outputs moved by " + d);
        assertEquals(0, count(m, "Constant"));
        assertEquals(0, count(m, "Identity"));
        assertEquals(0, count(m, "BatchNormalization"));
    }
}
