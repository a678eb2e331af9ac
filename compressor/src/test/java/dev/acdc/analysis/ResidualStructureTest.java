package dev.acdc.analysis;

import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Blocks and stages on graphs built in code, whose structure is known by construction. */
class ResidualStructureTest {
    private static final long[] P1 = {1, 1, 1, 1};

    /**
     * stem (3→8) · block A: two 3×3 convs + identity Add · block B: stride-2 3×3 (8→16), 3×3, and a
     * stride-2 1×1 projection on the shortcut, Add · a constant bias Add (not a merge) · head conv.
     */
    private static Model twoStages() {
        Random r = new Random(3);
        GraphBuilder b = GraphBuilder.create("two_stages");
        String x = b.input("x", DataType.FLOAT, 1, 3, 8, 8);
        String h = conv(b, r, "stem", x, 8, 3, 3, 1);
        String skip = h;
        h = conv(b, r, "a1", h, 8, 8, 3, 1);
        h = conv(b, r, "a2", h, 8, 8, 3, 1);
        h = b.op("Add", "a_add", h, skip);
        skip = conv(b, r, "b_proj", h, 16, 8, 1, 2);
        h = conv(b, r, "b1", h, 16, 8, 3, 2);
        h = conv(b, r, "b2", h, 16, 16, 3, 1);
        h = b.op("Add", "b_add", h, skip);
        String bias = b.initializer("bias", new long[] {1, 16, 1, 1}, ModelGenerators.randn(r, 16, 1));
        h = b.op("Add", "bias_add", h, bias);
        h = conv(b, r, "head", h, 16, 16, 3, 1);
        b.output(h, DataType.FLOAT, 1, 16, 4, 4);
        return Model.of(b.graph(), 13);
    }

    private static String conv(GraphBuilder b, Random r, String name, String x, int out, int in, int k, int stride) {
        String w = b.initializer(name + ".w", new long[] {out, in, k, k}, ModelGenerators.randn(r, out * in * k * k, 0.1));
        return b.conv(name, x, w, null, 1, new long[] {stride, stride}, k == 1 ? new long[4] : P1);
    }

    private static ResidualStructure analyse(Model m) {
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        return ResidualStructure.of(m.graph(), facts, ConvCensus.of(m.graph(), facts));
    }

    private static Node node(Model m, String name) {
        return m.graph().nodes().stream().filter(n -> n.label().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void blocksHoldTheMainPathAndTheProjection() {
        Model m = twoStages();
        ResidualStructure rs = analyse(m);
        assertTrue(rs.anyResidual());
        List<ResidualStructure.Block> blocks = rs.blocks();
        assertEquals(4, blocks.size(), "stem, A, B, head");
        assertEquals(List.of("stem"), names(blocks.get(0)));
        assertEquals(List.of("a1", "a2"), names(blocks.get(1)));
        assertEquals(List.of("b_proj", "b1", "b2"), names(blocks.get(2)), "the projection belongs to its block");
        assertEquals(List.of("head"), names(blocks.get(3)), "an Add of a constant is not a residual merge");
        assertFalse(blocks.get(3).residual());
        assertArrayEquals(new long[] {16, 4, 4}, blocks.get(2).outShape());
        assertEquals(2, rs.blockOf(node(m, "b1")));
        // stages change where the output shape does: [stem, A] at 8×8×8, [B, head] at 16×4×4
        assertEquals(List.of(0, 0, 1, 1), blocks.stream().map(ResidualStructure.Block::stage).toList());
        assertEquals(2, rs.stages());
        assertEquals(1, rs.stageOf(node(m, "head")));
    }

    @Test
    void withoutMergesEveryConvIsItsOwnBlock() {
        Random r = new Random(5);
        GraphBuilder b = GraphBuilder.create("chain");
        String h = b.input("x", DataType.FLOAT, 1, 3, 8, 8);
        h = conv(b, r, "c1", h, 8, 3, 3, 1);
        h = conv(b, r, "c2", h, 8, 8, 3, 1);
        h = conv(b, r, "c3", h, 16, 8, 3, 2);
        b.output(h, DataType.FLOAT, 1, 16, 4, 4);
        Model m = Model.of(b.graph(), 13);
        ResidualStructure rs = analyse(m);
        assertFalse(rs.anyResidual());
        assertEquals(3, rs.blocks().size());
        assertEquals(List.of(0, 0, 1), rs.blocks().stream().map(ResidualStructure.Block::stage).toList());
    }

    @Test
    void censusReadsKernelsStridesAndKinds() {
        Model m = twoStages();
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        List<ConvShape> census = ConvCensus.of(m.graph(), facts);
        assertEquals(List.of("stem", "a1", "a2", "b_proj", "b1", "b2", "head"),
                census.stream().map(ConvShape::name).toList());
        ConvShape proj = census.get(3);
        assertEquals("16x8x1x1", proj.kernelString());
        assertArrayEquals(new long[] {2, 2}, proj.strides());
        assertEquals("1x1", proj.kind());
        assertArrayEquals(new long[] {16, 4, 4}, proj.outShape());
        assertEquals("spatial", census.get(4).kind());
        assertTrue(census.get(4).twoD());
    }

    private static List<String> names(ResidualStructure.Block b) {
        return b.convs().stream().map(Node::label).toList();
    }
}
