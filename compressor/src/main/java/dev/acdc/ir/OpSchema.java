package dev.acdc.ir;

import dev.acdc.AcdcException;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The operators acdc understands, with their input and output counts (ONNX default domain), read from
 * the operator registry ({@link Operators}). Models using anything else are refused with
 * the operator and node named, and {@link GraphBuilder} checks arity against this table so code cannot
 * build an invalid node.
 */
public record OpSchema(String op, int minInputs, int maxInputs, int minOutputs, int maxOutputs) {
    public static final long MIN_OPSET = 7;
    public static final long MAX_OPSET = 21;

    /** Every operator's arity, as its rule in {@link Operators} states it. */
    private static final Map<String, OpSchema> TABLE = new TreeMap<>();

    static {
        for (String op : Operators.names()) {
            OperatorRule r = Operators.of(op);
            TABLE.put(op, new OpSchema(op, r.minInputs(), r.maxInputs(), r.minOutputs(), r.maxOutputs()));
        }
    }

    /** The schema of a supported operator, or null. */
    public static OpSchema of(String op) {
        return TABLE.get(op);
    }

    public static java.util.Set<String> supported() {
        return TABLE.keySet();
    }

    /** Operators with subgraphs: a graph holding one is refused as a whole. */
    static final java.util.Set<String> CONTROL_FLOW = java.util.Set.of("If", "Loop", "Scan", "SequenceMap");

    /** Throws unless the node's op is supported and its input/output counts fit. */
    public static void check(Node n) {
        if (!n.isDefaultDomain()) {
            throw new AcdcException("unsupported operator '" + n.opType() + "' of domain '" + n.domain() + "' in node '"
                    + n.label() + "' (acdc supports the default ONNX domain only)");
        }
        OpSchema s = TABLE.get(n.opType());
        if (s == null && CONTROL_FLOW.contains(n.opType())) {
            throw new AcdcException("node '" + n.label() + "' is control flow (" + n.opType() + "); acdc handles "
                    + "feed-forward CNN graphs only and processed nothing");
        }
        if (s == null) {
            throw new AcdcException(unsupported(n));
        }
        int in = n.inputs().size();
        int out = n.outputs().size();
        if (in < s.minInputs || in > s.maxInputs || out < s.minOutputs || out > s.maxOutputs) {
            throw new AcdcException("node '" + n.label() + "' (" + n.opType() + ") has " + in + " inputs and " + out
                    + " outputs; " + n.opType() + " takes " + range(s.minInputs, s.maxInputs) + " inputs and "
                    + range(s.minOutputs, s.maxOutputs) + " outputs");
        }
    }

    /** "unsupported operator 'Resize' in node 'up' (supported: ...)". */
    static String unsupported(Node n) {
        return "unsupported operator '" + (n.isDefaultDomain() ? n.opType() : n.domain() + "." + n.opType())
                + "' in node '" + n.label() + "' (supported: " + String.join(", ", TABLE.keySet()) + ")";
    }

    private static String range(int a, int b) {
        return a == b ? Integer.toString(a) : b == Integer.MAX_VALUE ? a + "+" : a + "-" + b;
    }

    /** Throws unless the model's default opset is one acdc reads. */
    public static void checkOpset(Model m) {
        long opset = m.opset();
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new AcdcException("opset " + opset + " is not supported (acdc reads opsets " + MIN_OPSET + "-"
                    + MAX_OPSET + ")");
        }
    }

    /** Whether acdc has a rule for the node's operator (default domain, in the table). */
    public static boolean known(Node n) {
        return n.isDefaultDomain() && TABLE.containsKey(n.opType());
    }

    /** Every operator acdc has no rule for ("domain.Op" outside the default domain), with its nodes, in graph order. */
    public static Map<String, List<Node>> unknownOperators(Graph g) {
        Map<String, List<Node>> unknown = new java.util.LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (!known(n)) {
                String key = n.isDefaultDomain() ? n.opType() : n.domain() + "." + n.opType();
                unknown.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(n);
            }
        }
        return unknown;
    }

    /** "'Resize' (2 nodes, first 'up'), ..." for a person. */
    public static String describe(Map<String, List<Node>> unknown) {
        List<String> parts = new java.util.ArrayList<>();
        unknown.forEach((op, nodes) -> parts.add("'" + op + "' (" + nodes.size() + " node" + (nodes.size() == 1 ? "" : "s")
                + ", first '" + nodes.get(0).label() + "')"));
        return String.join(", ", parts);
    }

    /**
     * Throws unless the default opset is in range, no node is control flow, and every operator acdc has a
     * rule for has its arity. Operators without a rule pass: acdc leaves them as they are, and shape
     * inference takes their output shapes from the model's value_info ({@link ShapeInference}).
     */
    public static void checkModel(Model m) {
        checkOpset(m);
        for (Node n : m.graph().nodes()) {
            if (CONTROL_FLOW.contains(n.opType()) && n.isDefaultDomain()) {
                check(n);
            }
        }
        for (Node n : m.graph().nodes()) {
            if (known(n)) {
                check(n);
            }
        }
    }

    /**
     * Throws, naming every operator acdc has no rule for at once, unless there is none: for the stages
     * that must understand every node (fine-tuning lowers each to SameDiff).
     */
    public static void requireAllKnown(Model m, String what) {
        Map<String, List<Node>> unknown = unknownOperators(m.graph());
        if (!unknown.isEmpty()) {
            throw new AcdcException(what + " needs a rule for every operator; acdc has none for " + describe(unknown)
                    + " (it supports the default ONNX domain's " + String.join(", ", TABLE.keySet()) + ")");
        }
    }
}
