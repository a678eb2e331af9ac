package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Operators acdc has no rule for (Softplus, ReduceSum) pass through compression unchanged, next to ones it has (Resize). */
class PassThroughTest {
    @TempDir
    Path tmp;

    private CompressionJob.Outcome compress(Model m, String atoms, List<String> notes) {
        Path model = tmp.resolve("fpn.onnx");
        OnnxModels.save(m, model, null);
        return CompressionJob.run(CompressionJob.Request.of(model, Settings.of("layer", atoms, null, null, null),
                tmp.resolve("fpn.acdc.onnx")), notes::add);
    }

    /**
     * At full rank the compressed model computes the original in ONNX Runtime, at the exporters' opsets
     * 11 (raised to 13, checked) and 13; the convs after the unknown operators are decomposed too, and the
     * unknown nodes are written as they were.
     */
    @ParameterizedTest
    @ValueSource(longs = {11, 13})
    void fullRankIsExactAroundOperatorsWithoutARule(long opset) throws Exception {
        Model m = ModelGenerators.withUpsample(3, 8, 16, 5, 7, opset);
        byte[] original = OnnxModels.toBytes(m);
        List<String> notes = new ArrayList<>();
        CompressionJob.Outcome o = compress(m, "9", notes);
        assertTrue(notes.stream().anyMatch(n -> n.startsWith("passing through unchanged the operators acdc has no "
                + "rule for: 'Softplus' (1 node, first 'soft')")), notes.toString());
        assertEquals(opset < 13, notes.stream().anyMatch(n -> n.startsWith("opset 11 -> 13 checked in ONNX Runtime")),
                notes.toString());
        List<String> decomposed = o.report().convs().stream().filter(c -> c.decomposed()).map(c -> c.name()).toList();
        assertEquals(List.of("lateral", "head"), decomposed, "the convs after Resize, and after Softplus");
        Model written = OnnxModels.fromBytes(o.bytes(), null);
        Node up = written.graph().nodes().stream().filter(n -> n.is("Resize")).findFirst().orElseThrow();
        assertEquals("nearest", up.attrString("mode", null));
        assertTrue(written.graph().nodes().stream().anyMatch(n -> n.is("Softplus")));
        long[] shape = {3, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 11);
        float[] a = Ort.run(original, x, shape);
        float[] b = Ort.run(o.bytes(), x, shape);
        assertTrue(Ort.maxAbsDiff(a, b) < 1e-4, "max |logit diff| " + Ort.maxAbsDiff(a, b));
        assertEquals(15, a.length, "three images, five classes: the batch is not fixed by the measurement");
    }

    @Test
    void theDefaultCompressesAndMeasuresMacsAfterTheUnknownOperators() {
        CompressionJob.Outcome o = compress(ModelGenerators.withUpsample(3, 8, 16, 5, 7, 13), null, new ArrayList<>());
        assertTrue(o.report().output().bytes() < o.report().input().bytes(), "smaller");
        // every conv sized: stem on 4x4 (stride 2), lateral and head on the upsampled 8x8
        long convMacs = 16L * 3 * 9 * 4 * 4 + 2 * 16L * 16 * 9 * 8 * 8;
        assertTrue(o.report().input().macs() >= convMacs, o.report().input().toString());
    }

    /**
     * An operator acdc does not know that changed between the model's opset and the one acdc writes is
     * not silently carried over: ReduceSum took its axes as an attribute before opset 13.
     */
    @Test
    void anOperatorThatChangedAcrossOpsetsIsRefused() {
        GraphBuilder b = GraphBuilder.create("reducesum11");
        String h = conv3x3(b, 16);
        b.graph().nodes().add(new Node("sum", "ReduceSum", List.of(h), List.of("summed"),
                List.of(Attribute.ofInts("axes", 2, 3))));
        b.output("summed", DataType.FLOAT, -1, 16, 1, 1);
        AcdcException e = assertThrows(AcdcException.class, () -> compress(Model.of(b.graph(), 11), null,
                new ArrayList<>()));
        assertTrue(e.getMessage().startsWith("acdc writes opset 13, and at that opset ONNX Runtime cannot load the model"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("(ReduceSum) as they were at opset 11; re-export the model at opset 13 or later"),
                e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("fpn.acdc.onnx")), "nothing written");
    }

    /**
     * Split has a rule now: at opset 11 its sizes are an attribute, upgraded to its opset-13 input, and the
     * model around it compresses exactly at full rank.
     */
    @Test
    void splitFromOpset11IsUpgradedAndExact() {
        GraphBuilder b = GraphBuilder.create("split11");
        String h = conv3x3(b, 16);
        b.graph().nodes().add(new Node("split", "Split", List.of(h), List.of("s0", "s1"),
                List.of(Attribute.ofInt("axis", 1), Attribute.ofInts("split", 6, 10))));
        String y = b.op("Concat", "cat", List.of("s1", "s0"), Attribute.ofInt("axis", 1));
        String w = b.initializer("d.weight", new long[] {16, 16, 3, 3}, ModelGenerators.randn(new Random(4), 16 * 144, 0.1));
        y = b.conv("d", y, w, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
        y = b.op("GlobalAveragePool", "pool", y);
        b.output(y, DataType.FLOAT, -1, 16, 1, 1);
        Model m = Model.of(b.graph(), 11);
        byte[] original = OnnxModels.toBytes(m);
        List<String> notes = new ArrayList<>();
        CompressionJob.Outcome o = compress(m, "9", notes);
        assertTrue(notes.stream().noneMatch(n -> n.startsWith("passing through")), notes.toString());
        Node split = OnnxModels.fromBytes(o.bytes(), null).graph().nodes().stream().filter(n -> n.is("Split"))
                .findFirst().orElseThrow();
        assertEquals(2, split.inputs().size(), "the sizes are an input at opset 13");
        long[] shape = {2, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 3);
        assertTrue(Ort.maxAbsDiff(Ort.run(original, x, shape), Ort.run(o.bytes(), x, shape)) < 1e-4);
    }

    @Test
    void fineTuningNamesEveryOperatorItCannotTrainThrough() {
        Model m = ModelGenerators.withUpsample(3, 8, 16, 5, 7, 13);
        AcdcException e = assertThrows(AcdcException.class, () -> FineTuneJob.prepare(m));
        assertEquals("fine-tuning needs a rule for every operator; acdc has none for 'Softplus' (1 node, first 'soft')",
                e.getMessage().substring(0, e.getMessage().indexOf(" (it supports")));
    }

    /** A dense prediction (a segmentation map) is not what the distillation loss trains: refused, saying why. */
    @Test
    void fineTuningRefusesADensePrediction() {
        GraphBuilder b = GraphBuilder.create("seg");
        b.output(conv3x3(b, 4), DataType.FLOAT, -1, 4, 8, 8);
        Model m = Model.of(b.graph(), 13);
        // from the declared output, before any work, and from the inferred one, where none is declared
        assertThrows(AcdcException.class, () -> FineTuneJob.requireTrainable(m, "fine-tuning"));
        AcdcException e = assertThrows(AcdcException.class, () -> FineTuneJob.requireLogits(m));
        assertEquals("fine-tuning distils and classifies [N, classes] logits; this model's output is [N, 4, 8, 8] (a "
                + "dense prediction such as a segmentation map), which acdc does not train yet (the design: "
                + "docs/finetune.md, dense outputs); compress it without --train-data", e.getMessage());
    }

    /** A graph input [N, 3, 8, 8] and a 3x3 conv to {@code out} channels on it; returns the conv's output. */
    private static String conv3x3(GraphBuilder b, int out) {
        String x = b.input("input", DataType.FLOAT, -1, 3, 8, 8);
        String w = b.initializer("c.weight", new long[] {out, 3, 3, 3}, ModelGenerators.randn(new Random(3), out * 27, 0.2));
        return b.conv("c", x, w, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
    }
}
