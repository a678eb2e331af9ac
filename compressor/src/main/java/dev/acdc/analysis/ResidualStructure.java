package dev.acdc.analysis;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The residual blocks and stages of a graph (DESIGN §1). An {@code Add} of two computed tensors of
 * equal 4-D shape is a residual merge; its block holds the convolutions that feed exactly one of its
 * two inputs (the main path, plus any projection shortcut) and no earlier block. Convolutions outside
 * every block form blocks of their own. Blocks are in graph order; a stage is a run of consecutive
 * blocks with equal output shape.
 */
public final class ResidualStructure {
    /** A residual block (or a lone conv): its convolutions, output shape [C,H,W], position, stage. */
    public record Block(List<Node> convs, long[] outShape, int position, boolean residual, int stage) {
    }

    private final List<Block> blocks;
    private final boolean anyResidual;
    private final Map<Node, Integer> blockOf = new HashMap<>();

    private ResidualStructure(List<Block> blocks, boolean anyResidual) {
        this.blocks = List.copyOf(blocks);
        this.anyResidual = anyResidual;
        for (int i = 0; i < blocks.size(); i++) {
            for (Node c : blocks.get(i).convs()) {
                blockOf.put(c, i);
            }
        }
    }

    public List<Block> blocks() {
        return blocks;
    }

    /** How many blocks end in a residual merge. */
    public long residualBlocks() {
        return blocks.stream().filter(Block::residual).count();
    }

    /** Whether the graph has a residual merge at all (else every conv is its own block). */
    public boolean anyResidual() {
        return anyResidual;
    }

    /** The index of the block holding {@code conv}, or -1 when it is not one of the analysed convs. */
    public int blockOf(Node conv) {
        return blockOf.getOrDefault(conv, -1);
    }

    /** The stage of the block holding {@code conv}, or -1. */
    public int stageOf(Node conv) {
        int b = blockOf(conv);
        return b < 0 ? -1 : blocks.get(b).stage();
    }

    public int stages() {
        return blocks.isEmpty() ? 0 : blocks.get(blocks.size() - 1).stage() + 1;
    }

    /** Analyses {@code convs} (Conv nodes of {@code g}, each with its output shape in {@code facts}). */
    public static ResidualStructure of(Graph g, Map<String, ShapeInference.Facts> facts, List<ConvShape> convs) {
        Map<Node, Integer> index = new HashMap<>();
        for (int i = 0; i < convs.size(); i++) {
            index.put(convs.get(i).node(), i);
        }
        // conv ancestry of every value, as bit sets over the conv list
        Map<String, BitSet> cone = new HashMap<>();
        record Draft(List<Node> convs, long[] outShape, int position, boolean residual) {
        }
        List<Draft> drafts = new ArrayList<>();
        boolean[] assigned = new boolean[convs.size()];
        List<Node> nodes = g.nodes();
        Map<Node, Integer> position = new HashMap<>();
        for (int idx = 0; idx < nodes.size(); idx++) {
            Node n = nodes.get(idx);
            position.put(n, idx);
            BitSet b = new BitSet();
            for (String in : n.inputs()) {
                BitSet ib = cone.get(in);
                if (ib != null) {
                    b.or(ib);
                }
            }
            Integer ci = index.get(n);
            if (ci != null) {
                b.set(ci);
            }
            for (String o : n.outputs()) {
                cone.put(o, b);
            }
            if (isResidualMerge(n, g, facts)) {
                BitSet a = (BitSet) cone.getOrDefault(n.input(0), new BitSet()).clone();
                a.xor(cone.getOrDefault(n.input(1), new BitSet()));
                List<Node> members = new ArrayList<>();
                for (int i = a.nextSetBit(0); i >= 0; i = a.nextSetBit(i + 1)) {
                    if (!assigned[i]) {
                        assigned[i] = true;
                        members.add(convs.get(i).node());
                    }
                }
                long[] y = facts.get(n.output(0)).shape();
                drafts.add(new Draft(members, new long[] {y[1], y.length > 2 ? y[2] : -1, y.length > 3 ? y[3] : -1},
                        idx, true));
            }
        }
        boolean anyResidual = !drafts.isEmpty();
        for (int i = 0; i < convs.size(); i++) {
            if (!assigned[i]) {
                ConvShape c = convs.get(i);
                drafts.add(new Draft(List.of(c.node()), c.outShape(), position.getOrDefault(c.node(), -1), false));
            }
        }
        drafts.sort((x, y) -> Integer.compare(x.position(), y.position()));
        List<Block> blocks = new ArrayList<>();
        int stage = 0;
        for (int i = 0; i < drafts.size(); i++) {
            Draft d = drafts.get(i);
            if (i > 0 && !Arrays.equals(d.outShape(), drafts.get(i - 1).outShape())) {
                stage++;
            }
            blocks.add(new Block(List.copyOf(d.convs()), d.outShape(), d.position(), d.residual(), stage));
        }
        return new ResidualStructure(blocks, anyResidual);
    }

    /** An Add (or two-input Sum) of two computed tensors of equal 4-D shape. */
    public static boolean isResidualMerge(Node n, Graph g, Map<String, ShapeInference.Facts> facts) {
        if (!n.is("Add") && !n.is("Sum") || n.inputs().size() != 2) {
            return false;
        }
        for (String in : n.inputs()) {
            if (g.isInitializer(in) || g.producer(in) == null && g.dataInputs().stream().noneMatch(v -> v.name().equals(in))) {
                return false;
            }
        }
        ShapeInference.Facts a = facts.get(n.input(0));
        ShapeInference.Facts b = facts.get(n.input(1));
        return a != null && b != null && a.shape() != null && Arrays.equals(a.shape(), b.shape())
                && a.shape().length == 4;
    }
}
