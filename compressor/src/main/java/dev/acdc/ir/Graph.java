package dev.acdc.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A computation graph: nodes in topological order, initializers, inputs, outputs, value_info. */
public final class Graph {
    private String name;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<ValueInfo> outputs = new ArrayList<>();
    private final List<ValueInfo> valueInfo = new ArrayList<>();
    private final Object source;
    private int sortedOnRead;

    public Graph(String name, Object source) {
        this.name = name == null ? "" : name;
        this.source = source;
    }

    public Graph(String name) {
        this(name, null);
    }

    public String name() {
        return name;
    }

    public void setName(String n) {
        this.name = n;
    }

    public Object source() {
        return source;
    }

    /**
     * Puts the nodes in a topological order, keeping the file's order wherever it already is one (Kahn's
     * algorithm taking the earliest ready node first); returns how many nodes moved. Leaves the order as it is
     * (returns 0) when no order exists — a cycle, or a value nothing defines — for {@link Validity} to name.
     */
    public int sortTopologically() {
        Map<String, Integer> producerOf = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).outputs()) {
                if (!o.isEmpty()) {
                    producerOf.putIfAbsent(o, i);
                }
            }
        }
        int n = nodes.size();
        int[] waiting = new int[n];
        List<List<Integer>> readers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            readers.add(new ArrayList<>());
        }
        for (int i = 0; i < n; i++) {
            Set<Integer> from = new HashSet<>();
            for (String in : nodes.get(i).inputs()) {
                Integer p = in.isEmpty() || initializers.containsKey(in) ? null : producerOf.get(in);
                if (p != null && p != i && from.add(p)) {
                    readers.get(p).add(i);
                }
            }
            waiting[i] = from.size();
        }
        java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
        for (int i = 0; i < n; i++) {
            if (waiting[i] == 0) {
                ready.add(i);
            }
        }
        List<Node> order = new ArrayList<>(n);
        while (!ready.isEmpty()) {
            int i = ready.poll();
            order.add(nodes.get(i));
            for (int r : readers.get(i)) {
                if (--waiting[r] == 0) {
                    ready.add(r);
                }
            }
        }
        if (order.size() != n) {
            return 0;
        }
        int moved = 0;
        for (int i = 0; i < n; i++) {
            moved += order.get(i) != nodes.get(i) ? 1 : 0;
        }
        if (moved > 0) {
            nodes.clear();
            nodes.addAll(order);
        }
        return moved;
    }

    /** How many nodes reading the file moved into a topological order (0: the file's order was one). */
    public int nodesSortedOnRead() {
        return sortedOnRead;
    }

    /** Sorts the nodes as read ({@link #sortTopologically}) and remembers how many moved. */
    public int sortOnRead() {
        sortedOnRead = sortTopologically();
        return sortedOnRead;
    }

    /** The nodes, in order; the list is live (passes edit it). */
    public List<Node> nodes() {
        return nodes;
    }

    public Map<String, Tensor> initializers() {
        return initializers;
    }

    public Tensor initializer(String value) {
        return initializers.get(value);
    }

    public boolean isInitializer(String value) {
        return initializers.containsKey(value);
    }

    public void putInitializer(Tensor t) {
        initializers.put(t.name(), t);
    }

    /** The graph inputs, including those that only declare an initializer (IR &lt; 4 style). */
    public List<ValueInfo> inputs() {
        return inputs;
    }

    /** Graph inputs the caller must feed: those not backed by an initializer. */
    public List<ValueInfo> dataInputs() {
        List<ValueInfo> r = new ArrayList<>();
        for (ValueInfo v : inputs) {
            if (!initializers.containsKey(v.name())) {
                r.add(v);
            }
        }
        return r;
    }

    public List<ValueInfo> outputs() {
        return outputs;
    }

    public List<ValueInfo> valueInfo() {
        return valueInfo;
    }

    public boolean isGraphOutput(String value) {
        for (ValueInfo v : outputs) {
            if (v.name().equals(value)) {
                return true;
            }
        }
        return false;
    }

    /** The node producing {@code value}, or null (graph input, initializer or unknown). */
    public Node producer(String value) {
        for (Node n : nodes) {
            if (n.outputs().contains(value)) {
                return n;
            }
        }
        return null;
    }

    /** The nodes reading {@code value}, in graph order. */
    public List<Node> consumers(String value) {
        List<Node> r = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs().contains(value)) {
                r.add(n);
            }
        }
        return r;
    }

    /** value name → producing node, for repeated lookups. */
    public Map<String, Node> producerIndex() {
        Map<String, Node> m = new HashMap<>();
        for (Node n : nodes) {
            for (String o : n.outputs()) {
                m.put(o, n);
            }
        }
        return m;
    }

    /** value name → consuming nodes, for repeated lookups. */
    public Map<String, List<Node>> consumerIndex() {
        Map<String, List<Node>> m = new HashMap<>();
        for (Node n : nodes) {
            for (String i : n.inputs()) {
                if (!i.isEmpty()) {
                    m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
                }
            }
        }
        return m;
    }

    /** Every value name in use: inputs, initializers, node outputs. */
    public Set<String> valueNames() {
        Set<String> s = new HashSet<>(initializers.keySet());
        for (ValueInfo v : inputs) {
            s.add(v.name());
        }
        for (Node n : nodes) {
            s.addAll(n.outputs());
        }
        return s;
    }

    /** Replaces every use of value {@code from} (node inputs and graph outputs) with {@code to}. */
    public void replaceUses(String from, String to) {
        for (Node n : nodes) {
            n.replaceInput(from, to);
        }
        for (int i = 0; i < outputs.size(); i++) {
            ValueInfo v = outputs.get(i);
            if (v.name().equals(from)) {
                outputs.set(i, new ValueInfo(to, v.elemType(), v.dims(), null));
            }
        }
    }

    /** Drops initializers no node reads, their graph-input declarations, and stale value_info. */
    public int removeUnusedInitializers() {
        Set<String> used = new HashSet<>();
        for (Node n : nodes) {
            used.addAll(n.inputs());
        }
        for (ValueInfo v : outputs) {
            used.add(v.name());
        }
        Set<String> removed = new HashSet<>(initializers.keySet());
        removed.removeAll(used);
        initializers.keySet().removeAll(removed);
        inputs.removeIf(v -> removed.contains(v.name()));
        Set<String> live = valueNames();
        valueInfo.removeIf(v -> !live.contains(v.name()));
        return removed.size();
    }

    /**
     * The operand positions that hold sizes, not weights: from this index on, an operator's inputs are shapes,
     * scales, bounds, pads or axes (Resize's float scales [1, 1, 2, 2], Clip's bounds, Pad's pads and value).
     */
    private static final Map<String, Integer> SHAPE_OPERANDS_FROM = Map.ofEntries(
            Map.entry("Resize", 1), Map.entry("Upsample", 1), Map.entry("Clip", 1),
            Map.entry("Pad", 1), Map.entry("Reshape", 1), Map.entry("Expand", 1),
            Map.entry("Slice", 1), Map.entry("Tile", 1), Map.entry("Unsqueeze", 1),
            Map.entry("Squeeze", 1), Map.entry("Split", 1), Map.entry("TopK", 1),
            Map.entry("ReduceMean", 1), Map.entry("ReduceSum", 1), Map.entry("ReduceMax", 1),
            Map.entry("ReduceMin", 1), Map.entry("ConstantOfShape", 0));

    /** Values read only at {@link #SHAPE_OPERANDS_FROM} positions: sizes and bounds, not parameters. */
    private Set<String> shapeOperands() {
        Set<String> shape = new HashSet<>();
        Set<String> elsewhere = new HashSet<>();
        for (Node n : nodes) {
            int from = SHAPE_OPERANDS_FROM.getOrDefault(n.opType(), Integer.MAX_VALUE);
            for (int i = 0; i < n.inputs().size(); i++) {
                (i >= from ? shape : elsewhere).add(n.input(i));
            }
        }
        for (ValueInfo o : outputs) {
            elsewhere.add(o.name());
        }
        shape.removeAll(elsewhere);
        return shape;
    }

    private static boolean isParameter(DataType t, boolean quantized) {
        return t == DataType.FLOAT || t == DataType.DOUBLE || t == DataType.FLOAT16 || t == DataType.BFLOAT16 || quantized;
    }

    /**
     * Parameter count: elements of every float initializer or non-scalar float Constant node, and of every quantized one
     * (the integer tensor a DequantizeLinear or Cast reads), whose scales count too — except sizes: a tensor read only
     * as a shape, scale factor, bound, pad or axes operand (Resize's float scales, Clip's bounds) is no parameter.
     * inspect, compress's refusal and every report count by this one rule.
     */
    public long parameterCount() {
        Set<String> quantized = new HashSet<>();
        for (Node n : nodes) {
            if ((n.is("DequantizeLinear") || n.is("Cast")) && !n.inputs().isEmpty()) {
                quantized.add(n.input(0));
            }
        }
        Set<String> shapeOnly = shapeOperands();
        long p = 0;
        for (Tensor t : initializers.values()) {
            if (!shapeOnly.contains(t.name()) && isParameter(t.type(), quantized.contains(t.name()))) {
                p += t.numel();
            }
        }
        // weights stored as Constant nodes (paddle2onnx's style, some tf2onnx graphs) count as well; a scalar
        // Constant is arithmetic (a pad value, an epsilon), not a weight
        for (Node n : nodes) {
            if (!n.is("Constant") || n.outputs().isEmpty()) {
                continue;
            }
            if (shapeOnly.contains(n.output(0))) {
                continue;
            }
            Attribute v = n.attribute("value");
            if (v != null && v.kind() == Attribute.Kind.TENSOR && v.asTensor().numel() > 1
                    && isParameter(v.asTensor().type(), quantized.contains(n.output(0)))) {
                p += v.asTensor().numel();
            }
            Attribute fs = n.attribute("value_floats");
            if (fs != null && fs.kind() == Attribute.Kind.FLOATS && fs.asFloats().length > 1) {
                p += fs.asFloats().length;
            }
        }
        return p;
    }
}
