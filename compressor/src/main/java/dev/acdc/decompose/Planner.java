package dev.acdc.decompose;

import dev.acdc.AcdcException;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the spatial convolutions, the residual blocks and stages, and forms the sharing sets
 * (DESIGN §1). Residual blocks come from the graph: an {@code Add} of two computed tensors of equal
 * shape is a residual merge, and its block holds the convolutions that feed exactly one of its two
 * inputs (the main path, plus any projection shortcut). Convolutions outside every block form
 * blocks of their own.
 */
public final class Planner {
    /** Convolutions narrower than this (per group) are kept dense: their blocks would be slivers. */
    public static final int MIN_WIDTH = 8;
    public static final int MAX_AUTO_GROUP = 64;

    private Planner() {
    }

    public static Plan plan(Model m, Settings s) {
        Graph g = m.graph();
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        List<ConvPlan> convs = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!n.is("Conv")) {
                continue;
            }
            long[] w = facts.get(n.input(1)).shape();
            long[] y = facts.get(n.output(0)).shape();
            if (w == null || w.length != 4) {
                convs.add(withReason(new ConvPlan(n, w == null ? 0 : w[0], w == null ? 0 : w[1], 1, 1, 1,
                        new long[3]), "not a 2-D convolution"));
                continue;
            }
            long[] outShape = {y[1], y.length > 2 ? y[2] : -1, y.length > 3 ? y[3] : -1};
            convs.add(new ConvPlan(n, w[0], w[1], w[2], w[3], n.attrInt("group", 1), outShape));
        }
        List<ConvPlan> spatial = convs.stream().filter(ConvPlan::spatial).toList();
        if (spatial.isEmpty()) {
            throw new AcdcException("the model has no spatial convolution (kernel larger than 1x1) to decompose");
        }
        List<String> notes = new ArrayList<>();
        int gsize;
        String gReason;
        if (s.group() > 0) {
            gsize = s.group();
            gReason = "--group " + gsize;
        } else {
            gsize = autoGroup(spatial);
            gReason = "auto: largest power of two <= " + MAX_AUTO_GROUP
                    + " dividing every width of " + MIN_WIDTH + " or more";
        }
        for (ConvPlan c : convs) {
            decide(c, g, gsize, s);
        }
        Map<ConvPlan, Integer> units = units(g, facts, convs, s.share(), notes);
        List<SharingSet> sets = formSets(convs, units, s);
        return new Plan(s, gsize, gReason, convs, sets, notes);
    }

    private static ConvPlan withReason(ConvPlan c, String reason) {
        c.reason = reason;
        return c;
    }

    static int autoGroup(List<ConvPlan> spatial) {
        int g = MAX_AUTO_GROUP;
        boolean any = false;
        for (ConvPlan c : spatial) {
            for (long w : new long[] {c.out, c.inPerGroup}) {
                if (w >= MIN_WIDTH) {
                    any = true;
                    while (g > 1 && w % g != 0) {
                        g /= 2;
                    }
                }
            }
        }
        return any ? g : MIN_WIDTH;
    }

    private static void decide(ConvPlan c, Graph g, int gsize, Settings s) {
        if (c.reason != null) {
            return;
        }
        Node n = c.node;
        if (!c.spatial()) {
            c.reason = c.kh + "x" + c.kw + " convolution (not spatial)";
            return;
        }
        if (s.exclude() != null && s.exclude().matcher(n.label()).find()) {
            c.reason = "excluded by --exclude";
            return;
        }
        Tensor w = g.initializer(n.input(1));
        if (w == null) {
            c.reason = "weight is computed at run time, not stored";
            return;
        }
        if (!w.isFloat()) {
            c.reason = "weight is " + w.type() + ", not FLOAT";
            return;
        }
        if (dev.acdc.ir.NonFiniteWeights.has(w)) {
            c.reason = "weight holds NaN or Inf";
            return;
        }
        boolean first = g.dataInputs().stream().anyMatch(v -> v.name().equals(n.input(0)));
        String prefix = first ? "first conv: " : "";
        if (c.inPerGroup == 1 && c.group > 1) {
            c.reason = prefix + "depthwise (1 input channel per group): no channel blocks to share coefficients over";
            return;
        }
        if (c.inPerGroup < MIN_WIDTH) {
            c.reason = prefix + c.inPerGroup + " input channels" + (c.group > 1 ? " per group" : "") + " < group size "
                    + gsize;
            return;
        }
        if (c.out < MIN_WIDTH) {
            c.reason = prefix + c.out + " output channels < group size " + gsize;
            return;
        }
        c.go = (int) Math.min(gsize, c.out);
        c.gi = (int) Math.min(gsize, c.inPerGroup);
        if (c.out % c.go != 0 || c.inPerGroup % c.gi != 0) {
            c.reason = "widths " + c.out + "x" + c.inPerGroup + " are not multiples of the " + c.go + "x" + c.gi
                    + " block";
        }
    }

    /** Unit index per decomposed conv, by scope. */
    private static Map<ConvPlan, Integer> units(Graph g, Map<String, ShapeInference.Facts> facts, List<ConvPlan> convs,
                                                 Scope scope, List<String> notes) {
        Map<ConvPlan, Integer> units = new LinkedHashMap<>();
        List<ConvPlan> dec = convs.stream().filter(ConvPlan::decomposed).toList();
        switch (scope) {
            case LAYER -> {
                for (int i = 0; i < dec.size(); i++) {
                    units.put(dec.get(i), i);
                }
            }
            case NET -> dec.forEach(c -> units.put(c, 0));
            case BLOCK, STAGE -> {
                List<Block> blocks = residualBlocks(g, facts, convs, notes);
                int[] unitOfBlock = new int[blocks.size()];
                if (scope == Scope.BLOCK) {
                    for (int i = 0; i < blocks.size(); i++) {
                        unitOfBlock[i] = i;
                    }
                } else {
                    int stage = 0;
                    for (int i = 0; i < blocks.size(); i++) {
                        if (i > 0 && !Arrays.equals(blocks.get(i).outShape, blocks.get(i - 1).outShape)) {
                            stage++;
                        }
                        unitOfBlock[i] = stage;
                    }
                }
                for (int i = 0; i < blocks.size(); i++) {
                    for (ConvPlan c : blocks.get(i).convs) {
                        if (c.decomposed()) {
                            units.put(c, unitOfBlock[i]);
                        }
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
        return units;
    }

    /** A residual block (or a lone conv): its convolutions, output shape [C,H,W], and position. */
    record Block(List<ConvPlan> convs, long[] outShape, int position, boolean residual) {
    }

    static List<Block> residualBlocks(Graph g, Map<String, ShapeInference.Facts> facts, List<ConvPlan> convs,
                                      List<String> notes) {
        Map<Node, ConvPlan> byNode = new HashMap<>();
        List<ConvPlan> order = new ArrayList<>();
        for (ConvPlan c : convs) {
            byNode.put(c.node, c);
            order.add(c);
        }
        // conv ancestry of every value, as bit sets over the conv list
        Map<String, BitSet> cone = new HashMap<>();
        List<Block> blocks = new ArrayList<>();
        boolean[] assigned = new boolean[order.size()];
        List<Node> nodes = g.nodes();
        for (int idx = 0; idx < nodes.size(); idx++) {
            Node n = nodes.get(idx);
            BitSet b = new BitSet();
            for (String in : n.inputs()) {
                BitSet ib = cone.get(in);
                if (ib != null) {
                    b.or(ib);
                }
            }
            ConvPlan cp = byNode.get(n);
            if (cp != null) {
                b.set(order.indexOf(cp));
            }
            for (String o : n.outputs()) {
                cone.put(o, b);
            }
            if (isResidualMerge(n, g, facts)) {
                BitSet a = (BitSet) cone.getOrDefault(n.input(0), new BitSet()).clone();
                a.xor(cone.getOrDefault(n.input(1), new BitSet()));
                List<ConvPlan> members = new ArrayList<>();
                for (int i = a.nextSetBit(0); i >= 0; i = a.nextSetBit(i + 1)) {
                    if (!assigned[i]) {
                        assigned[i] = true;
                        members.add(order.get(i));
                    }
                }
                long[] y = facts.get(n.output(0)).shape();
                blocks.add(new Block(members, new long[] {y[1], y.length > 2 ? y[2] : -1, y.length > 3 ? y[3] : -1},
                        idx, true));
            }
        }
        boolean anyResidual = !blocks.isEmpty();
        for (int i = 0; i < order.size(); i++) {
            if (!assigned[i]) {
                ConvPlan c = order.get(i);
                blocks.add(new Block(List.of(c), c.outShape, nodes.indexOf(c.node), false));
            }
        }
        blocks.sort((x, y) -> Integer.compare(x.position, y.position));
        if (!anyResidual) {
            notes.add("no residual merges (Add of two computed branches) found: each convolution is its own block");
        }
        return blocks;
    }

    static boolean isResidualMerge(Node n, Graph g, Map<String, ShapeInference.Facts> facts) {
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

    private static List<SharingSet> formSets(List<ConvPlan> convs, Map<ConvPlan, Integer> units, Settings s) {
        Map<String, SharingSet> sets = new LinkedHashMap<>();
        Map<Integer, Integer> keysPerUnit = new HashMap<>();
        Map<String, Integer> unitOfKey = new HashMap<>();
        for (ConvPlan c : convs) {
            if (!c.decomposed()) {
                continue;
            }
            int unit = units.get(c);
            c.unit = unit;
            String key = unit + "|" + c.go + "x" + c.gi + "x" + c.kh + "x" + c.kw;
            if (!unitOfKey.containsKey(key)) {
                unitOfKey.put(key, unit);
                keysPerUnit.merge(unit, 1, Integer::sum);
            }
        }
        for (ConvPlan c : convs) {
            if (!c.decomposed()) {
                continue;
            }
            String shape = c.go + "x" + c.gi + "x" + c.kh + "x" + c.kw;
            String base = switch (s.share()) {
                case LAYER -> c.name();
                case BLOCK -> "block" + c.unit;
                case STAGE -> "stage" + c.unit;
                case NET -> "net";
            };
            String id = keysPerUnit.get(c.unit) > 1 ? base + "/" + shape : base;
            SharingSet set = sets.computeIfAbsent(id, k -> new SharingSet(k, c.go, c.gi, (int) c.kh, (int) c.kw));
            set.members.add(c);
            c.setId = id;
        }
        List<SharingSet> kept = new ArrayList<>();
        for (SharingSet set : sets.values()) {
            Integer budget = s.setAtoms().get(set.id());
            if (budget != null && budget == Settings.DENSE) {
                for (ConvPlan c : set.members) {
                    c.reason = "kept dense by the atom budget";
                    c.setId = null;
                }
                continue;
            }
            int want = budget != null ? budget : s.atomsFor(set.kh, set.kw);
            set.atoms = Math.max(1, Math.min(want, Math.min(set.go * set.gi, set.blocks() * set.kh * set.kw)));
            kept.add(set);
        }
        return kept;
    }
}
