package dev.acdc.analysis;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Where a network can be cut so that everything after a point depends on the data through one tensor.
 * A value is a <em>cut point</em> when, after the node that computes it (in topological order), it is
 * the only data-dependent value still to be read: every path from the input to the output passes
 * through it. In a ResNet these are the residual blocks' outputs (inside a block the shortcut is live
 * too); in a plain CNN every layer's output; an Inception-like module or a Concat of branches has none
 * inside. Values computed from initializers alone (an ACDC kernel computed from its atoms and
 * coefficients) are not data and never block a cut.
 * <p>
 * A {@link Segment} runs from one cut point to a later one and is closed at the first cut after it
 * contains a node that {@code reads} a chosen initializer (e.g. a decomposed conv's factors), or after
 * the element-wise activation that directly follows that cut (a block's final Relu), so every
 * segment but the last holds something to recover; the model's tail after the last such node is not a
 * segment.
 */
public final class Segments {
    /** A segment: its input and output values and its data-dependent nodes, in graph order. */
    public record Segment(String input, String output, List<Node> nodes) {
    }

    /** Element-wise activations a segment absorbs after its cut (the next segment reads their output). */
    private static final Set<String> ACTIVATIONS = Set.of("Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSwish",
            "HardSigmoid", "Elu", "Selu", "Softplus");

    private Segments() {
    }

    /** The cut points of a graph with one data input, in topological order, the input first. */
    public static List<String> cutPoints(Graph g) {
        List<String> cuts = new ArrayList<>();
        if (g.dataInputs().size() != 1) {
            return cuts;
        }
        String input = g.dataInputs().get(0).name();
        List<Node> data = dataNodes(g, input);
        Map<String, Integer> lastUse = new HashMap<>();
        for (int i = 0; i < data.size(); i++) {
            for (String v : data.get(i).inputs()) {
                lastUse.put(v, i);
            }
        }
        for (var o : g.outputs()) {
            lastUse.put(o.name(), Integer.MAX_VALUE);
        }
        cuts.add(input);
        Set<String> live = new LinkedHashSet<>();
        live.add(input);
        for (int i = 0; i < data.size(); i++) {
            Node n = data.get(i);
            for (String v : n.outputs()) {
                if (!v.isEmpty() && lastUse.containsKey(v)) {
                    live.add(v);
                }
            }
            final int at = i;
            live.removeIf(v -> lastUse.getOrDefault(v, -1) <= at);
            if (live.size() == 1 && n.outputs().contains(live.iterator().next())) {
                cuts.add(live.iterator().next());
            }
        }
        return cuts;
    }

    /**
     * The segments of {@code g} between cut points, each closed at the first cut after a node that reads
     * (directly, or through values computed from initializers alone) an initializer {@code reads} accepts.
     */
    public static List<Segment> of(Graph g, Predicate<String> reads) {
        List<Segment> out = new ArrayList<>();
        List<String> cuts = cutPoints(g);
        if (cuts.isEmpty()) {
            return out;
        }
        Set<String> cutSet = new HashSet<>(cuts);
        List<Node> data = dataNodes(g, cuts.get(0));
        Set<String> marked = constantsReading(g, reads);
        String start = cuts.get(0);
        List<Node> current = new ArrayList<>();
        boolean holds = false;
        for (int i = 0; i < data.size(); i++) {
            Node n = data.get(i);
            current.add(n);
            holds |= n.inputs().stream().anyMatch(marked::contains);
            String cut = n.outputs().stream().filter(cutSet::contains).findFirst().orElse(null);
            if (cut != null && holds) {
                // an activation right after the cut joins the segment: its output is what the next one reads
                while (i + 1 < data.size() && ACTIVATIONS.contains(data.get(i + 1).opType())
                        && data.get(i + 1).input(0).equals(cut) && cutSet.contains(data.get(i + 1).output(0))) {
                    i++;
                    current.add(data.get(i));
                    cut = data.get(i).output(0);
                }
                out.add(new Segment(start, cut, List.copyOf(current)));
                start = cut;
                current = new ArrayList<>();
                holds = false;
            }
        }
        return out;
    }

    /**
     * The model's tail after the last of {@code segments}: from its output to the graph's (first) output,
     * e.g. a classifier's pooling and fully connected head; null when there is none.
     */
    public static Segment tail(Graph g, List<Segment> segments) {
        if (segments.isEmpty() || g.outputs().isEmpty()) {
            return null;
        }
        String start = segments.get(segments.size() - 1).output();
        String end = g.outputs().get(0).name();
        if (start.equals(end)) {
            return null;
        }
        Set<Node> taken = new HashSet<>();
        for (Segment s : segments) {
            taken.addAll(s.nodes());
        }
        List<Node> rest = new ArrayList<>();
        for (Node n : dataNodes(g, cutPoints(g).get(0))) {
            if (!taken.contains(n)) {
                rest.add(n);
            }
        }
        return rest.isEmpty() ? null : new Segment(start, end, List.copyOf(rest));
    }

    /** Everything after cut point {@code cut}: to the graph's (first) output; null when nothing follows. */
    public static Segment after(Graph g, String cut) {
        List<String> cuts = cutPoints(g);
        if (cuts.isEmpty() || !cuts.contains(cut) || g.outputs().isEmpty()) {
            return null;
        }
        List<Node> data = dataNodes(g, cuts.get(0));
        int from = 0;
        for (int i = 0; i < data.size(); i++) {
            if (data.get(i).outputs().contains(cut)) {
                from = i + 1;
            }
        }
        List<Node> rest = data.subList(from, data.size());
        return rest.isEmpty() ? null : new Segment(cut, g.outputs().get(0).name(), List.copyOf(rest));
    }

    /**
     * The segment as a model of its own: {@code seg.input()} (of {@code inputShape}, batch symbolic) in,
     * {@code seg.output()} out, its nodes plus the initializer-only nodes they need, and the initializers
     * they read (shared, not copied). The file-level facts are {@code m}'s.
     */
    public static Model extract(Model m, Segment seg, long[] inputShape) {
        Graph g = m.graph();
        Graph s = new Graph(g.name() + ":" + seg.output());
        Set<String> needed = new HashSet<>();
        for (Node n : seg.nodes()) {
            needed.addAll(n.inputs());
        }
        Set<String> dataValues = new HashSet<>();
        dataValues.add(seg.input());
        for (Node n : seg.nodes()) {
            dataValues.addAll(n.outputs());
        }
        Set<Node> inSegment = new HashSet<>(seg.nodes());
        List<Node> constant = new ArrayList<>();
        List<Node> all = g.nodes();
        for (int i = all.size() - 1; i >= 0; i--) {
            Node n = all.get(i);
            if (!inSegment.contains(n) && n.outputs().stream().anyMatch(v -> needed.contains(v) && !dataValues.contains(v))) {
                constant.add(0, n);
                needed.addAll(n.inputs());
            }
        }
        s.nodes().addAll(constant);
        s.nodes().addAll(seg.nodes());
        long[] shape = inputShape.clone();
        shape[0] = -1;
        s.inputs().add(ValueInfo.tensor(seg.input(), dev.acdc.ir.DataType.FLOAT, shape));
        s.outputs().add(new ValueInfo(seg.output(), dev.acdc.ir.DataType.FLOAT, null, null));
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            if (needed.contains(e.getKey())) {
                s.putInitializer(e.getValue());
            }
        }
        return new Model(m.irVersion(), m.opsets(), m.producerName(), m.producerVersion(), new LinkedHashMap<>(), s,
                null);
    }

    /** The shape of each cut point's value (batch first, as inferred for the declared input). */
    public static Map<String, long[]> shapes(Model m, List<String> values) {
        // lenient: a value after an operator acdc has no rule for has no known shape (its segment is skipped)
        Map<String, ShapeInference.Facts> facts = ShapeInference.inferWhatCanBe(m, Map.of());
        Map<String, long[]> out = new LinkedHashMap<>();
        for (String v : values) {
            ShapeInference.Facts f = facts.get(v);
            if (f == null && m.graph().dataInputs().size() == 1 && m.graph().dataInputs().get(0).name().equals(v)) {
                out.put(v, m.graph().dataInputs().get(0).shape());
            } else {
                out.put(v, f == null || f.shape() == null ? null : f.shape());
            }
        }
        return out;
    }

    /** The nodes that depend on the data input, in graph order. */
    private static List<Node> dataNodes(Graph g, String input) {
        Set<String> data = new HashSet<>();
        data.add(input);
        List<Node> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.inputs().stream().anyMatch(data::contains)) {
                out.add(n);
                data.addAll(n.outputs());
            }
        }
        return out;
    }

    /** The marked initializers and every value computed from initializers alone that reads one of them. */
    private static Set<String> constantsReading(Graph g, Predicate<String> reads) {
        Set<String> marked = new HashSet<>();
        for (String name : g.initializers().keySet()) {
            if (reads.test(name)) {
                marked.add(name);
            }
        }
        Set<String> data = new HashSet<>();
        for (var in : g.dataInputs()) {
            data.add(in.name());
        }
        for (Node n : g.nodes()) {
            boolean isData = n.inputs().stream().anyMatch(data::contains);
            if (isData) {
                data.addAll(n.outputs());
            } else if (n.inputs().stream().anyMatch(marked::contains)) {
                marked.addAll(n.outputs());
            }
        }
        return marked;
    }
}
