package dev.acdc.onnx;

import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.OpSchema;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import dev.acdc.util.AtomicFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every kind of bad model file fails with the project's error, a one-line message and exit code 2. */
class BadInputTest {
    @TempDir
    Path tmp;

    private static AcdcException fails(Path p) {
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.load(p));
        assertEquals(AcdcException.BAD_INPUT, e.exitCode());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void missingFile() {
        assertTrue(fails(tmp.resolve("nope.onnx")).getMessage().startsWith("no such file"));
    }

    @Test
    void folderIsNotAFile() {
        assertTrue(fails(tmp).getMessage().startsWith("not a file"));
    }

    @Test
    void emptyFile() throws Exception {
        Path p = Files.write(tmp.resolve("empty.onnx"), new byte[0]);
        assertTrue(fails(p).getMessage().contains("empty"));
    }

    @Test
    void textIsNotProtobuf() throws Exception {
        Path p = Files.writeString(tmp.resolve("text.onnx"), "this is not a model\n");
        String msg = fails(p).getMessage();
        assertTrue(msg.contains("not an ONNX model") || msg.contains("truncated"), msg);
    }

    @Test
    void truncatedRealModel() throws Exception {
        Path src = SharedFiles.model("resnet20-cifar10.onnx");
        byte[] b = Files.readAllBytes(src);
        Path p = Files.write(tmp.resolve("cut.onnx"), Arrays.copyOf(b, b.length / 2));
        assertTrue(fails(p).getMessage().contains("truncated"), "message names the truncation");
    }

    @Test
    void truncatedTinyModel() throws Exception {
        byte[] b = OnnxModels.toBytes(ModelGenerators.residual(3, 8, 4, 5, 1));
        for (int cut : new int[] {7, b.length / 3, b.length - 3}) {
            Path p = Files.write(tmp.resolve("cut" + cut + ".onnx"), Arrays.copyOf(b, cut));
            fails(p);
        }
    }

    @Test
    void protobufThatIsNotAModel() throws Exception {
        byte[] tensor = TensorProto.newBuilder().setName("w").setDataType(1).addDims(2).addFloatData(1)
                .addFloatData(2).build().toByteArray();
        Path p = Files.write(tmp.resolve("tensor.onnx"), tensor);
        assertTrue(fails(p).getMessage().contains("not an ONNX model"));
    }

    @Test
    void unsupportedOperatorIsNamedWithItsNode() {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        Node relu = m.graph().nodes().get(1);
        m.graph().nodes().set(1, new Node("my_lstm", "LSTM", relu.inputs(), relu.outputs(), List.<Attribute>of()));
        // shape inference cannot pass it without the shapes the jobs measure in ONNX Runtime, and says so
        AcdcException e = assertThrows(AcdcException.class, () -> dev.acdc.ir.ShapeInference.infer(m));
        assertTrue(e.getMessage().contains("'LSTM'") && e.getMessage().contains("'my_lstm'")
                && e.getMessage().contains("declares its output shapes (value_info)"), e.getMessage());
        OpSchema.checkModel(m); // the rewriting jobs pass it through
        // several unknown operators, for a stage that must know them all: all of them in one message, each with
        // its count and first node
        Node pool = m.graph().nodes().stream().filter(n -> n.is("GlobalAveragePool")).findFirst().orElseThrow();
        m.graph().nodes().set(m.graph().nodes().indexOf(pool), new Node("up", "Upsample", pool.inputs(), pool.outputs(),
                List.<Attribute>of()));
        AcdcException both = assertThrows(AcdcException.class, () -> OpSchema.requireAllKnown(m, "fine-tuning"));
        assertTrue(both.getMessage().startsWith("fine-tuning needs a rule for every operator; acdc has none for "
                + "'LSTM' (1 node, first 'my_lstm'), 'Upsample' (1 node, first 'up')"), both.getMessage());
    }

    @Test
    void customDomainIsRefused() {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        Node relu = m.graph().nodes().get(1);
        m.graph().nodes().set(1, new Node("fancy", "Relu", "com.example", relu.inputs(), relu.outputs(), List.of(), null));
        // another domain's Relu is not ONNX's: no rule applies, and inference names it with its domain
        AcdcException e = assertThrows(AcdcException.class, () -> dev.acdc.ir.ShapeInference.infer(m));
        assertTrue(e.getMessage().startsWith("unsupported operator 'com.example.Relu' in node 'fancy'"), e.getMessage());
    }

    @Test
    void controlFlowIsRefusedAsAWhole() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        Node relu = m.graph().nodes().get(1);
        // a Loop late in the graph is named even though an earlier node would fail too
        m.graph().nodes().set(0, new Node("odd", "Hardmax", "", m.graph().nodes().get(0).inputs(),
                m.graph().nodes().get(0).outputs(), List.of(), null));
        m.graph().nodes().set(1, new Node("loop", "Loop", "", List.of("", "", relu.input(0)), relu.outputs(),
                List.of(), null));
        Path p = Files.write(tmp.resolve("loop.onnx"), OnnxModels.toBytes(m));
        Model back = OnnxModels.load(p);
        AcdcException e = assertThrows(AcdcException.class, () -> OpSchema.checkModel(back));
        assertEquals("node 'loop' is control flow (Loop); acdc handles feed-forward CNN graphs only and processed "
                + "nothing", e.getMessage());
        assertThrows(AcdcException.class, () -> dev.acdc.decompose.Compressor.compress(back,
                dev.acdc.decompose.Settings.defaults(), s -> { }));
    }

    @Test
    void declaredWeightsOverTheMemoryBudgetAreRefusedBeforeDecoding() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        Path p = Files.write(tmp.resolve("m.onnx"), OnnxModels.toBytes(m));
        long need = 4 * m.graph().parameterCount();
        String old = System.getProperty("acdc.memoryBudget");
        try {
            System.setProperty("acdc.memoryBudget", Long.toString(need - 1));
            String msg = fails(p).getMessage();
            assertTrue(msg.contains("more than the memory budget"), msg);
            System.setProperty("acdc.memoryBudget", Long.toString(need));
            OnnxModels.load(p);
        } finally {
            if (old == null) {
                System.clearProperty("acdc.memoryBudget");
            } else {
                System.setProperty("acdc.memoryBudget", old);
            }
        }
        // a tensor declaring 2^62 elements in typed fields: refused from its dims, nothing allocated
        TensorProto huge = TensorProto.newBuilder().setName("huge").setDataType(1).addDims(1L << 31).addDims(1L << 31)
                .addFloatData(1f).build();
        dev.acdc.onnx.proto.OnnxProto.ModelProto.Builder b = dev.acdc.onnx.proto.OnnxProto.ModelProto
                .parseFrom(OnnxModels.toBytes(m)).toBuilder();
        b.getGraphBuilder().addInitializer(huge);
        Path q = Files.write(tmp.resolve("huge.onnx"), b.build().toByteArray());
        String msg = fails(q).getMessage();
        assertTrue(msg.contains("more than the memory budget"), msg);
    }

    @Test
    void nonFiniteWeightsAreNamedAndRefusedForDecomposition() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        String conv = m.graph().nodes().stream().filter(n -> n.is("Conv")).toList().get(1).input(1);
        float[] w = m.graph().initializer(conv).floats();
        w[3] = Float.NaN;
        w[7] = Float.POSITIVE_INFINITY;
        m.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats(conv, m.graph().initializer(conv).shape(), w));
        assertEquals(List.of("'" + conv + "' (1 NaN, 1 Inf of " + w.length + " values)"),
                dev.acdc.ir.NonFiniteWeights.describe(m.graph()));
        Model copy = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        AcdcException e = assertThrows(AcdcException.class, () -> dev.acdc.decompose.Compressor.compress(m,
                dev.acdc.decompose.Settings.of("layer", null, "8", null, null), s -> { }));
        assertTrue(e.getMessage().startsWith("weights hold non-finite values: '" + conv + "' (1 NaN, 1 Inf"), e.getMessage());
        var r = dev.acdc.decompose.Compressor.compress(copy,
                dev.acdc.decompose.Settings.of("layer", null, "8", null, null).allowingNonfinite(true), s -> { });
        assertEquals(1, r.plan().decomposed().size(), "the other block conv is still decomposed");
        assertTrue(r.plan().convs().stream().anyMatch(c -> "weight holds NaN or Inf".equals(c.reason())));
    }

    @Test
    void irVersionOutOfRange() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        m.setIrVersion(2);
        Path p = Files.write(tmp.resolve("ir2.onnx"), OnnxModels.toBytes(m));
        assertTrue(fails(p).getMessage().contains("IR version 2"));
    }

    @Test
    void opsetOutOfRange() {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        m.setOpset(6);
        AcdcException e = assertThrows(AcdcException.class, () -> OpSchema.checkModel(m));
        assertTrue(e.getMessage().contains("opset 6"));
    }

    @Test
    void rawDataOfWrongSize() throws Exception {
        var p = dev.acdc.onnx.proto.OnnxProto.ModelProto.parseFrom(OnnxModels.toBytes(ModelGenerators.residual(3, 8, 4, 5, 1)));
        var g = p.getGraph().toBuilder();
        g.setInitializer(0, g.getInitializer(0).toBuilder().setRawData(com.google.protobuf.ByteString.copyFrom(new byte[12])));
        Path f = Files.write(tmp.resolve("short.onnx"), p.toBuilder().setGraph(g).build().toByteArray());
        assertTrue(fails(f).getMessage().contains("raw_data holds 12 bytes"));
    }

    @Test
    void outputIntoMissingFolderWritesNothing() {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        AcdcException e = assertThrows(AcdcException.class,
                () -> OnnxModels.save(m, tmp.resolve("no/such/dir/out.onnx"), null));
        assertTrue(e.getMessage().startsWith("output folder does not exist"));
    }

    @Test
    void saveNeverOverwritesTheInput() throws Exception {
        Path in = tmp.resolve("in.onnx");
        Model m = ModelGenerators.residual(3, 8, 4, 5, 1);
        OnnxModels.save(m, in, null);
        byte[] before = Files.readAllBytes(in);
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.save(m, in, in));
        assertTrue(e.getMessage().contains("refusing to overwrite"));
        assertTrue(Arrays.equals(before, Files.readAllBytes(in)));
    }

    @Test
    void failedWriteLeavesThePreviousFileIntact() throws Exception {
        Path out = tmp.resolve("out.onnx");
        Files.writeString(out, "previous", StandardCharsets.UTF_8);
        AtomicFiles.failAfterBytesForTest(100);
        try {
            assertThrows(AcdcException.class,
                    () -> OnnxModels.save(ModelGenerators.residual(3, 8, 4, 5, 1), out, null));
        } finally {
            AtomicFiles.failAfterBytesForTest(-1);
        }
        assertEquals("previous", Files.readString(out));
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(out), s.toList(), "no temporary file is left behind");
        }
    }
}
