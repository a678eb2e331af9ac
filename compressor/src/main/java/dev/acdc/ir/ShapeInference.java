package dev.acdc.ir;

import dev.acdc.AcdcException;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shape inference for acdc's CNN operator set: a driver that walks the graph in order and applies each
 * node's rule from the operator registry ({@link Operators}), which holds every
 * operator's shape logic by family; this class holds what they share ({@link ShapeContext}). Dims are longs, {@code -1} for a symbolic or unknown
 * size (typically the batch). Small integer tensors (the Shape → Gather → Concat → Reshape chains of
 * PyTorch exports) also get their values tracked, element by element, {@link #UNKNOWN} where not
 * known; that is what lets Reshape resolve and lets {@code FoldConstants} replace such chains.
 */
public final class ShapeInference implements ShapeContext {
    /** Marks an element of a tracked integer value that is not known. */
    public static final long UNKNOWN = Long.MIN_VALUE;
    /** The most elements of an integer tensor whose values are tracked. */
    public static final int MAX_TRACKED = 64;

    /** What is known of one value: its element type, shape (null = unknown rank), integer values. */
    public record Facts(DataType type, long[] shape, long[] ints) {
        public boolean fullyKnownInts() {
            if (ints == null) {
                return false;
            }
            for (long v : ints) {
                if (v == UNKNOWN) {
                    return false;
                }
            }
            return true;
        }

        public boolean shapeKnown() {
            if (shape == null) {
                return false;
            }
            for (long d : shape) {
                if (d < 0) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            return type + (shape == null ? "[?]" : Arrays.toString(shape)) + (ints == null ? "" : "=" + Arrays.toString(ints));
        }
    }

    private final Graph graph;
    private final long opset;
    private final Map<String, Facts> facts = new HashMap<>();

    private ShapeInference(Graph g, long opset) {
        this.graph = g;
        this.opset = opset;
    }

    /** Infers every value's facts, taking graph inputs' shapes from their declarations. */
    public static Map<String, Facts> infer(Model m) {
        return infer(m, Map.of());
    }

    /**
     * Infers every value's facts. {@code inputShapes} overrides declared input shapes by name (use -1
     * for a symbolic dim); an input given as the only data input may be named "".
     */
    public static Map<String, Facts> infer(Model m, Map<String, long[]> inputShapes) {
        ShapeInference si = new ShapeInference(m.graph(), m.opset());
        si.run(inputShapes, false);
        return si.facts;
    }

    /**
     * As {@link #infer(Model, Map)}, but a node acdc has no rule for, or whose inputs' shapes are not
     * known, does not stop inference: its outputs get unknown facts (null type and shape). For reading
     * a model acdc cannot rewrite.
     */
    public static Map<String, Facts> inferWhatCanBe(Model m, Map<String, long[]> inputShapes) {
        ShapeInference si = new ShapeInference(m.graph(), m.opset());
        si.run(inputShapes, true);
        return si.facts;
    }

    private void run(Map<String, long[]> inputShapes, boolean lenient) {
        for (Tensor t : graph.initializers().values()) {
            facts.put(t.name(), new Facts(t.type(), t.shape(), intsOf(t)));
        }
        List<ValueInfo> data = graph.dataInputs();
        for (ValueInfo v : data) {
            long[] s = inputShapes.get(v.name());
            if (s == null && data.size() == 1) {
                s = inputShapes.get("");
            }
            if (s == null) {
                s = v.shape();
            } else if (v.shape() != null && v.shape().length != s.length) {
                throw new AcdcException("input '" + v.name() + "' has rank " + v.shape().length + " but the given shape "
                        + Arrays.toString(s) + " has rank " + s.length);
            }
            facts.put(v.name(), new Facts(v.elemType(), s, null));
        }
        Map<String, ValueInfo> declared = new HashMap<>();
        for (ValueInfo v : graph.valueInfo()) {
            declared.put(v.name(), v);
        }
        for (Node n : graph.nodes()) {
            if (!OpSchema.known(n) || afterUnknown(n)) {
                // no rule, or inputs only an operator without a rule defines: the model's declared shapes (which
                // the jobs measure in ONNX Runtime) stand in for inference
                if (declaredOutputs(n, declared)) {
                    continue;
                }
                if (lenient) {
                    unknownOutputs(n);
                    continue;
                }
                if (!OpSchema.known(n)) {
                    throw new AcdcException(OpSchema.unsupported(n) + "; acdc passes such a node through unchanged "
                            + "when the model declares its output shapes (value_info), as the compress job measures "
                            + "them in ONNX Runtime");
                }
            }
            try {
                infer(n);
            } catch (RuntimeException e) {
                if (lenient) {
                    unknownOutputs(n);
                } else if (e instanceof AcdcException a) {
                    throw a;
                } else {
                    throw new AcdcException("cannot infer shapes at node '" + n.label() + "' (" + n.opType() + "): "
                            + e.getMessage());
                }
            }
        }
    }

    /** Whether a data input of {@code n} has no known shape (it follows a node acdc has no rule for). */
    private boolean afterUnknown(Node n) {
        for (String i : n.inputs()) {
            Facts f = i.isEmpty() ? null : facts.get(i);
            if (f != null && f.shape == null && f.type == null) {
                return true;
            }
        }
        return false;
    }

    /** Sets {@code n}'s outputs from the model's value_info if it declares type and rank of each; else false. */
    private boolean declaredOutputs(Node n, Map<String, ValueInfo> declared) {
        for (String o : n.outputs()) {
            ValueInfo v = o.isEmpty() ? null : declared.get(o);
            if (!o.isEmpty() && (v == null || v.elemType() == null || v.shape() == null)) {
                return false;
            }
        }
        for (String o : n.outputs()) {
            if (!o.isEmpty()) {
                ValueInfo v = declared.get(o);
                facts.put(o, new Facts(v.elemType(), v.shape(), null));
            }
        }
        return true;
    }

    private void unknownOutputs(Node n) {
        for (String o : n.outputs()) {
            if (!o.isEmpty()) {
                facts.put(o, new Facts(null, null, null));
            }
        }
    }

    @Override
    public void put(String name, Facts f) {
        facts.put(name, f);
    }

    @Override
    public long[] tracked(Tensor t) {
        return intsOf(t);
    }

    @Override
    public long opset() {
        return opset;
    }

    private static long[] intsOf(Tensor t) {
        if (!t.isDecoded() || t.isFloat() || t.type() == DataType.FLOAT16 || t.type() == DataType.DOUBLE
                || t.numel() > MAX_TRACKED) {
            return null;
        }
        return t.longs().clone();
    }

    @Override
    public Facts in(Node n, int i) {
        String name = n.input(i);
        if (name.isEmpty()) {
            return null;
        }
        Facts f = facts.get(name);
        if (f == null) {
            throw new AcdcException("node '" + n.label() + "' reads '" + name + "', which no node, input or initializer defines");
        }
        return f;
    }

    @Override
    public long[] shapeIn(Node n, int i) {
        Facts f = in(n, i);
        if (f == null || f.shape == null) {
            throw new AcdcException("the shape of '" + n.input(i) + "' (input " + i + " of node '" + n.label()
                    + "') is unknown; give --input-shape");
        }
        return f.shape;
    }

    @Override
    public void set(Node n, int out, DataType t, long[] shape, long[] ints) {
        if (ints != null && ints.length > MAX_TRACKED) {
            ints = null;
        }
        facts.put(n.output(out), new Facts(t, shape, ints));
    }

    @Override
    public DataType typeIn(Node n, int i) {
        Facts f = in(n, i);
        return f == null ? DataType.UNDEFINED : f.type;
    }

    /** An integer input's values (opset ≥ 10/11/13 style), required fully known. */
    @Override
    public long[] constInts(Node n, int i, String what) {
        Facts f = in(n, i);
        if (f == null) {
            return null;
        }
        if (!f.fullyKnownInts()) {
            throw new AcdcException("node '" + n.label() + "': " + what + " ('" + n.input(i)
                    + "') is computed at run time; acdc needs it constant");
        }
        return f.ints;
    }

    private void infer(Node n) {
        OperatorRule rule = Operators.of(n.opType());
        if (rule == null || !n.isDefaultDomain()) {
            OpSchema.check(n); // names the unsupported operator
            throw new AcdcException("no shape rule for " + n.opType());
        }
        rule.shape().infer(this, n);
    }

    /** The tensor a Constant node produces (value, or the opset-12 value_* attributes). */
    public static Tensor constantValue(Node n) {
        String out = n.output(0);
        if (n.has("value")) {
            return n.attribute("value").asTensor();
        }
        if (n.has("value_float")) {
            return Tensor.ofFloats(out, new long[0], new float[] {n.attrFloat("value_float", 0)});
        }
        if (n.has("value_floats")) {
            float[] f = n.attribute("value_floats").asFloats();
            return Tensor.ofFloats(out, new long[] {f.length}, f);
        }
        if (n.has("value_int")) {
            return Tensor.ofLongs(out, new long[0], new long[] {n.attrInt("value_int", 0)});
        }
        if (n.has("value_ints")) {
            long[] l = n.attrInts("value_ints", null);
            return Tensor.ofLongs(out, new long[] {l.length}, l);
        }
        throw new AcdcException("Constant node '" + n.label() + "' has no value attribute acdc can read");
    }

    /** The float values of input {@code i}: an initializer or a Constant node's; null when absent or empty. */
    @Override
    public float[] constantFloats(Node n, int i, String what) {
        if (n.inputs().size() <= i || n.input(i).isEmpty()) {
            return null;
        }
        String v = n.input(i);
        Tensor t = graph.initializer(v);
        if (t == null) {
            for (Node c : graph.nodes()) {
                if (c.is("Constant") && c.output(0).equals(v)) {
                    t = constantValue(c);
                }
            }
        }
        if (t == null) {
            throw new AcdcException("node '" + n.label() + "': " + what + " ('" + v + "') is computed at run time; "
                    + "acdc needs it constant");
        }
        return t.numel() == 0 ? null : t.floats();
    }
}
