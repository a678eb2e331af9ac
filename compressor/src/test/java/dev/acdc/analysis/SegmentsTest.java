package dev.acdc.analysis;

import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentsTest {
    private static String out(Graph g, String node) {
        for (Node n : g.nodes()) {
            if (n.name().equals(node)) {
                return n.output(0);
            }
        }
        throw new AssertionError("no node " + node);
    }

    @Test
    void aResidualBlockIsCutAtItsOutputNotInside() {
        Graph g = ModelGenerators.residual(3, 8, 8, 10, 1).graph();
        List<String> cuts = Segments.cutPoints(g);
        assertEquals("input", cuts.get(0));
        assertTrue(cuts.contains(out(g, "stem_relu")));
        assertTrue(cuts.contains(out(g, "block_add")));
        assertTrue(cuts.contains(out(g, "block_relu2")));
        // inside the block the shortcut is live too: no cut
        for (String inside : List.of("block_conv1", "block_bn1", "block_relu1", "block_conv2", "block_bn2")) {
            assertFalse(cuts.contains(out(g, inside)), inside);
        }
        assertEquals(g.outputs().get(0).name(), cuts.get(cuts.size() - 1));
    }

    @Test
    void aPlainCnnIsCutAfterEveryLayer() {
        GraphBuilder b = GraphBuilder.create("plain");
        java.util.Random r = new java.util.Random(1);
        String h = b.input("input", DataType.FLOAT, -1, 3, 8, 8);
        for (int k = 0; k < 3; k++) {
            int in = k == 0 ? 3 : 8;
            String w = b.initializer("conv" + k + ".weight", new long[] {8, in, 3, 3},
                    ModelGenerators.randn(r, 8 * in * 9, 0.1));
            h = b.op("Relu", "relu" + k, b.conv("conv" + k, h, w, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        }
        b.output(h, DataType.FLOAT, -1, 8, 8, 8);
        Graph g = b.graph();
        List<String> cuts = Segments.cutPoints(g);
        assertEquals(7, cuts.size()); // the input and each of the six nodes' outputs
        List<Segments.Segment> segs = Segments.of(g, name -> name.endsWith(".weight"));
        assertEquals(3, segs.size());
        for (int k = 0; k < 3; k++) {
            assertEquals(out(g, "relu" + k), segs.get(k).output()); // the conv's activation joins its segment
        }
    }

    @Test
    void aBottleneckBlockIsCutAroundNotInside() {
        Graph g = ModelGenerators.bottleneck(3, 8, 16, 8, 10, 1).graph();
        List<String> cuts = Segments.cutPoints(g);
        // stem conv, stem relu, then the block (none inside), its Add and Relu, pool, flatten, fc
        assertTrue(cuts.contains(out(g, "stem")));
        assertTrue(cuts.contains(out(g, "stem_relu")));
        assertFalse(cuts.contains(out(g, "reduce")));
        assertFalse(cuts.contains(out(g, "spatial_relu")));
        assertTrue(cuts.contains(out(g, "block_add")));
    }

    @Test
    void branchesJoinedByConcatFormOneSegment() {
        Graph g = ModelGenerators.branchy(3, 8, 8, 10, 1).graph();
        List<String> cuts = Segments.cutPoints(g);
        for (String inside : List.of("branch3", "branch3_relu", "branch1", "branch1_relu")) {
            assertFalse(cuts.contains(out(g, inside)), inside);
        }
        assertTrue(cuts.contains(out(g, "concat")));
        List<Segments.Segment> segs = Segments.of(g, Set.of("branch3.weight", "branch1.weight", "merge.weight")::contains);
        assertEquals(2, segs.size());
        assertEquals(out(g, "concat"), segs.get(0).output());
        assertEquals(out(g, "concat"), segs.get(1).input());
        assertEquals(out(g, "merge_relu"), segs.get(1).output());
    }

    @Test
    void segmentsCloseAtTheFirstCutAfterAMarkedWeightAndTheTailIsLeftOut() {
        Graph g = ModelGenerators.residual(3, 8, 8, 10, 1).graph();
        List<Segments.Segment> segs = Segments.of(g, Set.of("stem.weight", "block.conv1.weight")::contains);
        assertEquals(2, segs.size());
        assertEquals("input", segs.get(0).input());
        assertEquals(out(g, "stem_relu"), segs.get(0).output());
        assertEquals(out(g, "stem_relu"), segs.get(1).input());
        assertEquals(out(g, "block_relu2"), segs.get(1).output());
        // the block's segment holds every node of the block and its final Relu, in graph order
        List<String> names = segs.get(1).nodes().stream().map(Node::name).toList();
        assertEquals(List.of("block_conv1", "block_bn1", "block_relu1", "block_conv2", "block_bn2", "block_add",
                "block_relu2"), names);
    }

    @Test
    void anExtractedSegmentIsAModelFromItsInputToItsOutput() {
        Model m = ModelGenerators.residual(3, 8, 8, 10, 1);
        Graph g = m.graph();
        Segments.Segment s = Segments.of(g, Set.of("block.conv2.weight")::contains).get(0);
        Model part = Segments.extract(m, s, new long[] {1, 8, 8, 8});
        // the segment starts at the input (no cut before a marked weight closes it)
        assertEquals("input", s.input());
        assertEquals(List.of(s.output()), part.graph().outputs().stream().map(v -> v.name()).toList());
        assertEquals(s.nodes().size(), part.graph().nodes().size());
        assertTrue(part.graph().isInitializer("block.conv2.weight"));
        assertFalse(part.graph().isInitializer("fc.weight"));
        var shapes = Segments.shapes(m, List.of(s.output()));
        assertEquals(List.of(-1L, 8L, 8L, 8L), java.util.Arrays.stream(shapes.get(s.output())).boxed().toList());
    }

    @Test
    void theTailRunsFromTheLastSegmentToTheOutput() {
        Graph g = ModelGenerators.residual(3, 8, 8, 10, 1).graph();
        List<Segments.Segment> segs = Segments.of(g, Set.of("block.conv1.weight")::contains);
        Segments.Segment tail = Segments.tail(g, segs);
        assertEquals(out(g, "block_relu2"), tail.input());
        assertEquals(g.outputs().get(0).name(), tail.output());
        assertEquals(List.of("pool", "flatten", "fc"), tail.nodes().stream().map(Node::name).toList());
        assertEquals(null, Segments.tail(g, List.of()));
    }
}
