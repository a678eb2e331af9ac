package dev.acdc.decompose;

import dev.acdc.AcdcException;
import dev.acdc.analysis.ConvCensus;
import dev.acdc.analysis.ConvShape;
import dev.acdc.analysis.ResidualStructure;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides, for every convolution of the graph's census, whether ACDC decomposes it (else why not)
 * and into which block tiling, groups the decomposed ones into scope units (layer, residual block,
 * stage, net — the blocks and stages come from {@link ResidualStructure}) and forms the sharing sets
 * (DESIGN §1). Its decisions are immutable: the {@link Plan} it returns is final.
 */
public final class Planner {
    /** Convolutions narrower than this (per group) are kept dense: their blocks would be slivers. */
    public static final int MIN_WIDTH = 8;
    public static final int MAX_AUTO_GROUP = 64;

    private Planner() {
    }

    /** The planner's working state for one conv; frozen into a {@link ConvPlan} at the end. */
    private static final class Draft {
        final ConvShape shape;
        String reason;
        String setId;
        int go;
        int gi;
        int unit;

        Draft(ConvShape shape) {
            this.shape = shape;
        }

        boolean decomposed() {
            return reason == null;
        }

        long blocks() {
            return decomposed() ? (shape.out() / go) * (shape.inPerGroup() / gi) : 0;
        }

        ConvPlan freeze() {
            ConvShape c = shape;
            return new ConvPlan(c.node(), c.out(), c.inPerGroup(), c.kh(), c.kw(), c.group(), c.outShape(), reason,
                    setId, go, gi, unit, c.oneD() ? 1 : 2);
        }
    }

    public static Plan plan(Model m, Settings s) {
        Graph g = m.graph();
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        List<ConvShape> census = ConvCensus.of(g, facts);
        List<Draft> drafts = new ArrayList<>();
        for (ConvShape c : census) {
            Draft d = new Draft(c);
            if (!c.factorable()) {
                d.reason = c.spatialRank() == 3 ? "3-D convolution: acdc factors 1-D and 2-D convolutions"
                        : "not a 1-D or 2-D convolution";
            }
            drafts.add(d);
        }
        List<ConvShape> spatial = census.stream().filter(c -> c.factorable() && c.spatial()).toList();
        if (spatial.isEmpty() && (s.pointwise() == 0 || census.stream().noneMatch(ConvShape::factorable))) {
            throw new AcdcException(s.pointwise() == 0 && census.stream().anyMatch(ConvShape::factorable)
                    ? "the model has no spatial convolution (kernel larger than 1x1) to decompose, and --pointwise dense "
                    + "keeps its 1x1 convolutions dense"
                    : "the model has no 1-D or 2-D convolution to decompose" + otherConvs(census, facts)
                    + " (acdc factors the 1-D and 2-D convolutions of a CNN and the wide "
                    + "classifier after them); acdc quantize --mode int8-weights stores any model's weights in about a "
                    + "quarter of the bytes");
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
        for (Draft d : drafts) {
            decide(d, g, gsize, s);
        }
        assignUnits(g, facts, census, drafts, s.share(), notes);
        List<SetDraft> sets = formSets(drafts, s);
        Map<Draft, ConvPlan> frozen = new LinkedHashMap<>();
        for (Draft d : drafts) {
            frozen.put(d, d.freeze());
        }
        List<SharingSet> kept = new ArrayList<>();
        for (SetDraft sd : sets) {
            kept.add(new SharingSet(sd.id, sd.go, sd.gi, sd.kh, sd.kw, sd.members.stream().map(frozen::get).toList(),
                    sd.atoms));
        }
        return new Plan(s, gsize, gReason, List.copyOf(frozen.values()), List.copyOf(kept), List.copyOf(notes));
    }

    /** ": its 3 convolutions are 1-D" (or 3-D, or of unknown weight), for the refusal; "" without convs. */
    private static String otherConvs(List<ConvShape> census, Map<String, ShapeInference.Facts> facts) {
        Map<String, Integer> kinds = new LinkedHashMap<>();
        for (ConvShape c : census) {
            ShapeInference.Facts wf = facts.get(c.node().input(1));
            int rank = wf == null || wf.shape() == null ? -1 : wf.shape().length;
            String kind = rank == 3 ? "1-D" : rank == 5 ? "3-D" : rank < 0 ? "of a computed weight" : rank - 2 + "-D";
            kinds.merge(kind, 1, Integer::sum);
        }
        if (kinds.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        kinds.forEach((k, n) -> parts.add(n + " " + k + " convolution" + (n == 1 ? "" : "s")));
        return ": it has " + String.join(", ", parts);
    }

    static int autoGroup(List<ConvShape> spatial) {
        int g = MAX_AUTO_GROUP;
        boolean any = false;
        for (ConvShape c : spatial) {
            for (long w : new long[] {c.out(), c.inPerGroup()}) {
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

    private static void decide(Draft d, Graph g, int gsize, Settings s) {
        if (d.reason != null) {
            return;
        }
        ConvShape c = d.shape;
        Node n = c.node();
        if (!c.spatial() && s.pointwise() == 0) {
            d.reason = c.kh() + "x" + c.kw() + " convolution, kept dense by --pointwise dense";
            return;
        }
        if (s.exclude() != null && s.exclude().matcher(n.label()).find()) {
            d.reason = "excluded by --exclude";
            return;
        }
        Tensor w = g.initializer(n.input(1));
        if (w == null) {
            d.reason = "weight is computed at run time, not stored";
            return;
        }
        if (!w.isFloat()) {
            d.reason = "weight is " + w.type() + ", not FLOAT";
            return;
        }
        if (dev.acdc.ir.NonFiniteWeights.has(w)) {
            d.reason = "weight holds NaN or Inf";
            return;
        }
        boolean first = g.dataInputs().stream().anyMatch(v -> v.name().equals(n.input(0)));
        String prefix = first ? "first conv: " : "";
        if (c.depthwise()) {
            d.reason = prefix + "depthwise (1 input channel per group): no channel blocks to share coefficients over";
            return;
        }
        if (c.inPerGroup() < MIN_WIDTH) {
            d.reason = prefix + c.inPerGroup() + " " + c.columnsName() + (c.group() > 1 ? " per group" : "")
                    + (c.inPerGroup() < gsize && c.spatial() ? " < group size " + gsize : " < the minimum of " + MIN_WIDTH);
            return;
        }
        if (c.out() < MIN_WIDTH) {
            d.reason = prefix + c.out() + " " + c.rowsName()
                    + (c.out() < gsize && c.spatial() ? " < group size " + gsize : " < the minimum of " + MIN_WIDTH);
            return;
        }
        if (!c.spatial()) {
            // pointwise: W ≈ atomsᵀ·coefficientsᵀ, a low-rank factorization in the method's own terms — one block
            // per output channel (go = 1) spanning the whole input width, so the coefficients [I, r] are shared by
            // every output channel of the set's members and each conv's atoms [r, O] are its own
            d.go = 1;
            d.gi = (int) c.inPerGroup();
            return;
        }
        d.go = (int) Math.min(gsize, c.out());
        d.gi = (int) Math.min(gsize, c.inPerGroup());
        if (c.out() % d.go != 0 || c.inPerGroup() % d.gi != 0) {
            d.reason = "widths " + c.out() + "x" + c.inPerGroup() + " are not multiples of the " + d.go + "x" + d.gi
                    + " block";
        }
    }

    /** The scope unit of every decomposed conv: its layer, residual block, stage, or the one net. */
    private static void assignUnits(Graph g, Map<String, ShapeInference.Facts> facts, List<ConvShape> census,
                                    List<Draft> drafts, Scope scope, List<String> notes) {
        List<Draft> dec = drafts.stream().filter(Draft::decomposed).toList();
        switch (scope) {
            case LAYER -> {
                for (int i = 0; i < dec.size(); i++) {
                    dec.get(i).unit = i;
                }
            }
            case NET -> dec.forEach(d -> d.unit = 0);
            case BLOCK, STAGE -> {
                ResidualStructure rs = ResidualStructure.of(g, facts, census);
                if (!rs.anyResidual()) {
                    notes.add("no residual merges (Add of two computed branches) found: each convolution is its own block");
                }
                for (Draft d : dec) {
                    Node n = d.shape.node();
                    d.unit = scope == Scope.BLOCK ? rs.blockOf(n) : rs.stageOf(n);
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    /** A sharing set while it is formed. */
    private static final class SetDraft {
        final String id;
        final int go;
        final int gi;
        final int kh;
        final int kw;
        final List<Draft> members = new ArrayList<>();
        int atoms;

        SetDraft(String id, int go, int gi, int kh, int kw) {
            this.id = id;
            this.go = go;
            this.gi = gi;
            this.kh = kh;
            this.kw = kw;
        }

        long blocks() {
            return members.stream().mapToLong(Draft::blocks).sum();
        }
    }

    private static List<SetDraft> formSets(List<Draft> drafts, Settings s) {
        Map<String, SetDraft> sets = new LinkedHashMap<>();
        Map<Integer, Integer> keysPerUnit = new HashMap<>();
        Map<String, Integer> unitOfKey = new HashMap<>();
        for (Draft d : drafts) {
            if (d.decomposed()) {
                String key = d.unit + "|" + shapeKey(d);
                if (!unitOfKey.containsKey(key)) {
                    unitOfKey.put(key, d.unit);
                    keysPerUnit.merge(d.unit, 1, Integer::sum);
                }
            }
        }
        for (Draft d : drafts) {
            if (!d.decomposed()) {
                continue;
            }
            String base = switch (s.share()) {
                case LAYER -> d.shape.name();
                case BLOCK -> "block" + d.unit;
                case STAGE -> "stage" + d.unit;
                case NET -> "net";
            };
            String id = keysPerUnit.get(d.unit) > 1 ? base + "/" + shapeKey(d) : base;
            SetDraft set = sets.computeIfAbsent(id, k -> new SetDraft(k, d.go, d.gi, (int) d.shape.kh(), (int) d.shape.kw()));
            set.members.add(d);
            d.setId = id;
        }
        for (String named : s.setAtoms().keySet()) {
            if (!sets.containsKey(named)) {
                List<String> ids = new ArrayList<>(sets.keySet());
                throw new AcdcException("--set-atoms: the model has no sharing set " + named + " under --share="
                        + s.share().name().toLowerCase(java.util.Locale.ROOT) + "; its sets are "
                        + (ids.size() <= 12 ? String.join(", ", ids)
                        : String.join(", ", ids.subList(0, 12)) + " and " + (ids.size() - 12) + " more (the report's sets[] lists them all)"));
            }
        }
        List<SetDraft> kept = new ArrayList<>();
        for (SetDraft set : sets.values()) {
            Integer budget = s.setAtoms().get(set.id);
            if (budget != null && budget == Settings.DENSE) {
                for (Draft d : set.members) {
                    d.reason = "kept dense by the atom budget";
                    d.setId = null;
                }
                continue;
            }
            int want = budget != null ? budget
                    : set.kh * set.kw == 1 ? s.defaultPointwiseRank(set.gi, set.blocks()) : s.atomsFor(set.kh, set.kw);
            if (budget == null && set.kh * set.kw == 1 && want < MIN_WIDTH) {
                // a narrow 1×1 conv (a projection shortcut of a small net) holds few weights and its few ranks carry
                // a large share of its function: not worth factoring by default
                for (Draft d : set.members) {
                    d.reason = "1x1 too narrow to factor: rank " + want + " < " + MIN_WIDTH + " at --pointwise "
                            + s.pointwise() + " (--set-atoms can still set it)";
                    d.setId = null;
                }
                continue;
            }
            set.atoms = (int) Math.max(1, Math.min(want, Math.min((long) set.go * set.gi, set.blocks() * set.kh * set.kw)));
            kept.add(set);
        }
        return kept;
    }

    private static String shapeKey(Draft d) {
        return d.go + "x" + d.gi + "x" + d.shape.kh() + "x" + d.shape.kw();
    }
}
