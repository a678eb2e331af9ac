package dev.acdc.ir;

import dev.acdc.AcdcException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shape inference for acdc's CNN operator set. Dims are longs, {@code -1} for a symbolic or unknown
 * size (typically the batch). Small integer tensors (the Shape → Gather → Concat → Reshape chains of
 * PyTorch exports) also get their values tracked, element by element, {@link #UNKNOWN} where not
 * known; that is what lets Reshape resolve and lets {@code FoldConstants} replace such chains.
 */
public final class ShapeInference {
    /** Marks an element of a tracked integer value that is not known. */
    public static final long UNKNOWN = Long.MIN_VALUE;
    private static final int MAX_TRACKED = 64;

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

    private static long[] intsOf(Tensor t) {
        if (!t.isDecoded() || t.isFloat() || t.type() == DataType.DOUBLE || t.numel() > MAX_TRACKED) {
            return null;
        }
        return t.longs().clone();
    }

    private Facts in(Node n, int i) {
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

    private long[] shapeIn(Node n, int i) {
        Facts f = in(n, i);
        if (f == null || f.shape == null) {
            throw new AcdcException("the shape of '" + n.input(i) + "' (input " + i + " of node '" + n.label()
                    + "') is unknown; give --input-shape");
        }
        return f.shape;
    }

    private void set(Node n, int out, DataType t, long[] shape, long[] ints) {
        if (ints != null && ints.length > MAX_TRACKED) {
            ints = null;
        }
        facts.put(n.output(out), new Facts(t, shape, ints));
    }

    private DataType typeIn(Node n, int i) {
        Facts f = in(n, i);
        return f == null ? DataType.UNDEFINED : f.type;
    }

    /** An integer input's values (opset ≥ 10/11/13 style), required fully known. */
    private long[] constInts(Node n, int i, String what) {
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
        String op = n.opType();
        switch (op) {
            case "Conv" -> conv(n);
            case "ConvTranspose" -> convTranspose(n);
            case "MaxPool", "AveragePool" -> pool(n);
            case "GlobalAveragePool" -> {
                long[] x = shapeIn(n, 0);
                long[] y = x.clone();
                for (int i = 2; i < y.length; i++) {
                    y[i] = 1;
                }
                set(n, 0, typeIn(n, 0), y, null);
            }
            case "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Softmax",
                 "LogSoftmax", "Clip", "Abs" -> set(n, 0, typeIn(n, 0), shapeIn(n, 0), null);
            case "Identity", "Dropout" -> {
                Facts f = in(n, 0);
                facts.put(n.output(0), f);
                if (n.outputs().size() > 1 && f.shape != null) {
                    set(n, 1, DataType.BOOL, f.shape, null);
                }
            }
            case "Cast" -> {
                DataType to = DataType.of((int) n.attrInt("to", 1));
                Facts f = in(n, 0);
                boolean intTarget = to.isNumeric() && to != DataType.FLOAT && to != DataType.DOUBLE;
                set(n, 0, to, f.shape, intTarget ? f.ints : null);
            }
            case "Add", "Sub", "Mul", "Div" -> binary(n);
            case "QuantizeLinear" -> {
                // the output takes the zero point's type (uint8 without one)
                Facts z = n.inputs().size() > 2 && !n.input(2).isEmpty() ? in(n, 2) : null;
                set(n, 0, z == null ? DataType.UINT8 : z.type(), shapeIn(n, 0), null);
            }
            case "DequantizeLinear" -> set(n, 0, in(n, 1).type(), shapeIn(n, 0), null);
            case "Concat" -> concat(n);
            case "Flatten" -> {
                long[] x = shapeIn(n, 0);
                int axis = (int) n.attrInt("axis", 1);
                if (axis < 0) {
                    axis += x.length;
                }
                set(n, 0, typeIn(n, 0), new long[] {prod(x, 0, axis), prod(x, axis, x.length)}, null);
            }
            case "Reshape" -> reshape(n);
            case "Transpose" -> {
                long[] x = shapeIn(n, 0);
                long[] perm = n.attrInts("perm", null);
                long[] y = new long[x.length];
                int[] p = new int[x.length];
                for (int i = 0; i < x.length; i++) {
                    p[i] = perm == null ? x.length - 1 - i : (int) perm[i];
                    y[i] = x[p[i]];
                }
                Facts f = in(n, 0);
                set(n, 0, f.type, y, f.ints == null || !f.shapeKnown() ? null : transposeInts(f.ints, x, p));
            }
            case "Gemm" -> {
                long[] a = shapeIn(n, 0);
                long[] b = shapeIn(n, 1);
                boolean ta = n.attrInt("transA", 0) != 0;
                boolean tb = n.attrInt("transB", 0) != 0;
                set(n, 0, typeIn(n, 0), new long[] {ta ? a[1] : a[0], tb ? b[0] : b[1]}, null);
            }
            case "MatMul" -> matmul(n);
            case "Pad" -> pad(n);
            case "Slice" -> slice(n);
            case "Shape" -> {
                long[] x = shapeIn(n, 0);
                int start = (int) n.attrInt("start", 0);
                int end = (int) n.attrInt("end", x.length);
                start = clampAxis(start, x.length);
                end = clampAxis(end, x.length);
                long[] v = new long[Math.max(0, end - start)];
                for (int i = 0; i < v.length; i++) {
                    v[i] = x[start + i] < 0 ? UNKNOWN : x[start + i];
                }
                set(n, 0, DataType.INT64, new long[] {v.length}, v);
            }
            case "Gather" -> gather(n);
            case "Tile" -> {
                long[] x = shapeIn(n, 0);
                long[] rep = constInts(n, 1, "the repeats");
                long[] y = x.clone();
                for (int i = 0; i < y.length; i++) {
                    y[i] = x[i] < 0 ? -1 : x[i] * rep[i];
                }
                set(n, 0, typeIn(n, 0), y, null);
            }
            case "Unsqueeze" -> unsqueeze(n);
            case "Squeeze" -> squeeze(n);
            case "Resize" -> set(n, 0, typeIn(n, 0), resizedShape(n), null);
            case "ReduceMean", "ReduceMax" -> {
                long[] x = shapeIn(n, 0);
                long[] axes = opset >= 18 ? (n.inputs().size() > 1 && !n.input(1).isEmpty() ? constInts(n, 1, "the axes")
                        : null) : n.attrInts("axes", null);
                boolean keep = n.attrInt("keepdims", 1) != 0;
                if (axes == null && opset >= 18 && n.attrInt("noop_with_empty_axes", 0) != 0) {
                    set(n, 0, typeIn(n, 0), x, null);
                } else {
                    boolean[] reduced = new boolean[x.length];
                    for (int i = 0; i < x.length; i++) {
                        reduced[i] = axes == null;
                    }
                    for (long a : axes == null ? new long[0] : axes) {
                        reduced[(int) (a < 0 ? a + x.length : a)] = true;
                    }
                    List<Long> y = new ArrayList<>();
                    for (int i = 0; i < x.length; i++) {
                        if (!reduced[i]) {
                            y.add(x[i]);
                        } else if (keep) {
                            y.add(1L);
                        }
                    }
                    set(n, 0, typeIn(n, 0), y.stream().mapToLong(Long::longValue).toArray(), null);
                }
            }
            case "Constant" -> {
                Tensor t = constantValue(n);
                set(n, 0, t.type(), t.shape(), intsOf(t));
            }
            case "ConstantOfShape" -> {
                long[] shape = constInts(n, 0, "the shape");
                Attribute v = n.attribute("value");
                DataType t = v == null ? DataType.FLOAT : v.asTensor().type();
                long[] ints = null;
                if (t != DataType.FLOAT && t != DataType.DOUBLE && Tensor.numel(shape) <= MAX_TRACKED) {
                    ints = new long[(int) Tensor.numel(shape)];
                    Arrays.fill(ints, v == null ? 0 : v.asTensor().longs()[0]);
                }
                set(n, 0, t, shape, ints);
            }
            default -> {
                OpSchema.check(n); // names the unsupported operator
                throw new AcdcException("no shape rule for " + op);
            }
        }
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

    private void conv(Node n) {
        long[] x = shapeIn(n, 0);
        long[] w = shapeIn(n, 1);
        if (x.length != w.length || x.length < 3) {
            throw new AcdcException("Conv '" + n.label() + "': input rank " + x.length + " and weight rank " + w.length
                    + " do not match");
        }
        long group = n.attrInt("group", 1);
        if (x[1] >= 0 && x[1] != w[1] * group) {
            throw new AcdcException("Conv '" + n.label() + "': input has " + x[1] + " channels but the weight expects "
                    + w[1] + " x group " + group);
        }
        long[] kernel = Arrays.copyOfRange(w, 2, w.length);
        long[] y = spatialOut(n, x, kernel, false);
        y[1] = w[0];
        set(n, 0, typeIn(n, 0), y, null);
    }

    private void pool(Node n) {
        long[] x = shapeIn(n, 0);
        long[] kernel = n.attrInts("kernel_shape", null);
        if (kernel == null) {
            throw new AcdcException(n.opType() + " '" + n.label() + "' has no kernel_shape");
        }
        long[] y = spatialOut(n, x, kernel, n.attrInt("ceil_mode", 0) != 0);
        set(n, 0, typeIn(n, 0), y, null);
        if (n.outputs().size() > 1) {
            set(n, 1, DataType.INT64, y, null);
        }
    }

    private void convTranspose(Node n) {
        long[] x = shapeIn(n, 0);
        long[] w = shapeIn(n, 1);
        if (x.length != w.length || x.length < 3) {
            throw new AcdcException("ConvTranspose '" + n.label() + "': input rank " + x.length + " and weight rank "
                    + w.length + " do not match");
        }
        long group = n.attrInt("group", 1);
        if (x[1] >= 0 && x[1] != w[0]) {
            throw new AcdcException("ConvTranspose '" + n.label() + "': input has " + x[1]
                    + " channels but the weight [I, O/group, k...] expects " + w[0]);
        }
        ConvTransposeGeometry geo = ConvTransposeGeometry.of(n, Arrays.copyOfRange(x, 2, x.length),
                Arrays.copyOfRange(w, 2, w.length));
        long[] y = x.clone();
        y[1] = w[1] * group;
        System.arraycopy(geo.out(), 0, y, 2, geo.out().length);
        set(n, 0, typeIn(n, 0), y, null);
    }

    /** Output shape of a sliding-window op (Conv, pools), batch and channel copied from x. */
    static long[] spatialOut(Node n, long[] x, long[] kernel, boolean ceil) {
        int sd = x.length - 2;
        long[] strides = n.attrInts("strides", null);
        long[] dil = n.attrInts("dilations", null);
        long[] pads = n.attrInts("pads", null);
        String autoPad = n.attrString("auto_pad", "NOTSET");
        long[] y = x.clone();
        for (int i = 0; i < sd; i++) {
            long in = x[2 + i];
            long s = strides == null ? 1 : strides[i];
            long d = dil == null ? 1 : dil[i];
            long k = kernel[i];
            if (in < 0) {
                y[2 + i] = -1;
                continue;
            }
            long ext = d * (k - 1) + 1;
            long out;
            switch (autoPad) {
                case "SAME_UPPER", "SAME_LOWER" -> out = (in + s - 1) / s;
                case "VALID" -> out = (in - ext) / s + 1;
                default -> {
                    long p = pads == null ? 0 : pads[i] + pads[i + sd];
                    long num = in + p - ext;
                    out = (ceil ? Math.floorDiv(num + s - 1, s) : Math.floorDiv(num, s)) + 1;
                }
            }
            if (out <= 0) {
                throw new AcdcException(n.opType() + " '" + n.label() + "': spatial size " + in
                        + " is too small for kernel " + k + " (output would be " + out + ")");
            }
            y[2 + i] = out;
        }
        return y;
    }

    private static long[] broadcast(long[] a, long[] b) {
        int r = Math.max(a.length, b.length);
        long[] y = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.length ? 1 : a[i - (r - a.length)];
            long db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da == 1) {
                y[i] = db;
            } else if (db == 1 || da == db) {
                y[i] = da;
            } else if (da < 0 || db < 0) {
                y[i] = Math.max(da, db);
            } else {
                throw new AcdcException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
            }
        }
        return y;
    }

    private void binary(Node n) {
        Facts a = in(n, 0);
        Facts b = in(n, 1);
        long[] y = broadcast(shapeIn(n, 0), shapeIn(n, 1));
        long[] ints = null;
        if (a.ints != null && b.ints != null && (a.ints.length == b.ints.length || a.ints.length == 1
                || b.ints.length == 1) && y.length <= 1) {
            int len = Math.max(a.ints.length, b.ints.length);
            ints = new long[len];
            for (int i = 0; i < len; i++) {
                long u = a.ints[a.ints.length == 1 ? 0 : i];
                long v = b.ints[b.ints.length == 1 ? 0 : i];
                if (u == UNKNOWN || v == UNKNOWN || n.is("Div") && v == 0) {
                    ints[i] = UNKNOWN;
                    continue;
                }
                ints[i] = switch (n.opType()) {
                    case "Add" -> u + v;
                    case "Sub" -> u - v;
                    case "Mul" -> u * v;
                    default -> u / v;
                };
            }
        }
        set(n, 0, a.type, y, ints);
    }

    private void concat(Node n) {
        long axisAttr = n.attrInt("axis", 0);
        long[] first = shapeIn(n, 0);
        int axis = (int) (axisAttr < 0 ? axisAttr + first.length : axisAttr);
        long[] y = first.clone();
        List<Long> ints = new ArrayList<>();
        boolean track = true;
        for (int i = 0; i < n.inputs().size(); i++) {
            long[] s = shapeIn(n, i);
            if (i > 0) {
                y[axis] = y[axis] < 0 || s[axis] < 0 ? -1 : y[axis] + s[axis];
            }
            Facts f = in(n, i);
            if (f.ints == null) {
                track = false;
            } else {
                for (long v : f.ints) {
                    ints.add(v);
                }
            }
        }
        long[] iv = null;
        if (track && y.length == 1) {
            iv = ints.stream().mapToLong(Long::longValue).toArray();
        }
        set(n, 0, typeIn(n, 0), y, iv);
    }

    private void reshape(Node n) {
        long[] x = shapeIn(n, 0);
        long[] spec;
        if (n.inputs().size() > 1 && !n.input(1).isEmpty()) {
            Facts f = in(n, 1);
            if (f.ints == null) {
                throw new AcdcException("Reshape '" + n.label() + "': target shape '" + n.input(1) + "' is not known");
            }
            spec = f.ints;
        } else {
            spec = n.attrInts("shape", null);
            if (spec == null) {
                throw new AcdcException("Reshape '" + n.label() + "' has no target shape");
            }
        }
        boolean allowZero = n.attrInt("allowzero", 0) != 0;
        long[] y = new long[spec.length];
        int minus = -1;
        for (int i = 0; i < spec.length; i++) {
            long v = spec[i];
            if (v == UNKNOWN) {
                // a dim computed at run time from the input's shape: the batch when it is the leading one
                y[i] = i == 0 && x.length > 0 ? x[0] : -1;
            } else if (v == 0 && !allowZero) {
                y[i] = i < x.length ? x[i] : -1;
            } else if (v == -1) {
                minus = i;
                y[i] = -1;
            } else {
                y[i] = v;
            }
        }
        if (minus >= 0) {
            long total = 1;
            boolean known = true;
            for (int i = 0; i < x.length; i++) {
                if (x[i] < 0) {
                    // a symbolic dim cancels when it lands in the same place
                    if (i < y.length && y[i] < 0 && i != minus) {
                        continue;
                    }
                    known = false;
                } else {
                    total *= x[i];
                }
            }
            long rest = 1;
            for (int i = 0; i < y.length; i++) {
                if (i != minus) {
                    if (y[i] < 0) {
                        if (!(i < x.length && x[i] < 0)) {
                            known = false;
                        }
                    } else {
                        rest *= y[i];
                    }
                }
            }
            if (known && rest > 0) {
                if (total % rest != 0) {
                    throw new AcdcException("Reshape '" + n.label() + "': cannot reshape " + Arrays.toString(x) + " to "
                            + Arrays.toString(spec));
                }
                y[minus] = total / rest;
            }
        }
        Facts f0 = in(n, 0);
        set(n, 0, f0.type, y, f0.ints);
    }

    private void matmul(Node n) {
        long[] a = shapeIn(n, 0);
        long[] b = shapeIn(n, 1);
        if (a.length == 1 || b.length == 1) {
            throw new AcdcException("MatMul '" + n.label() + "' with a 1-D operand is not supported");
        }
        long[] batch = broadcast(Arrays.copyOf(a, a.length - 2), Arrays.copyOf(b, b.length - 2));
        long[] y = Arrays.copyOf(batch, batch.length + 2);
        y[batch.length] = a[a.length - 2];
        y[batch.length + 1] = b[b.length - 1];
        set(n, 0, typeIn(n, 0), y, null);
    }

    private void pad(Node n) {
        long[] x = shapeIn(n, 0);
        long[] pads = opset < 11 ? n.attrInts("pads", null) : constInts(n, 1, "the pads");
        if (pads == null) {
            throw new AcdcException("Pad '" + n.label() + "' has no pads");
        }
        long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? constInts(n, 3, "the axes") : null;
        long[] y = x.clone();
        int k = axes == null ? x.length : axes.length;
        for (int j = 0; j < k; j++) {
            int ax = axes == null ? j : clampAxis((int) axes[j], x.length);
            if (y[ax] >= 0) {
                y[ax] += pads[j] + pads[j + k];
            }
        }
        set(n, 0, typeIn(n, 0), y, null);
    }

    private void slice(Node n) {
        long[] x = shapeIn(n, 0);
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (opset < 10) {
            starts = n.attrInts("starts", null);
            ends = n.attrInts("ends", null);
            axes = n.attrInts("axes", null);
        } else {
            starts = constInts(n, 1, "the starts");
            ends = constInts(n, 2, "the ends");
            axes = n.inputs().size() > 3 ? constInts(n, 3, "the axes") : null;
            steps = n.inputs().size() > 4 ? constInts(n, 4, "the steps") : null;
        }
        long[] y = x.clone();
        Facts f = in(n, 0);
        long[] first = new long[x.length];
        long[] stride = new long[x.length];
        java.util.Arrays.fill(stride, 1);
        for (int j = 0; j < starts.length; j++) {
            int ax = axes == null ? j : clampAxis((int) axes[j], x.length);
            long step = steps == null ? 1 : steps[j];
            long dim = x[ax];
            if (dim < 0) {
                y[ax] = -1;
                continue;
            }
            long[] range = sliceRange(starts[j], ends[j], step, dim);
            y[ax] = range[2];
            first[ax] = range[0];
            stride[ax] = step;
        }
        long[] ints = null;
        if (f.ints != null && f.shapeKnown()) {
            ints = new long[(int) Tensor.numel(y)];
            long[] idx = new long[y.length];
            for (int k = 0; k < ints.length; k++) {
                long src = 0;
                for (int d = 0; d < y.length; d++) {
                    src = src * x[d] + first[d] + idx[d] * stride[d];
                }
                ints[k] = f.ints[(int) src];
                for (int d = y.length - 1; d >= 0; d--) {
                    if (++idx[d] < y[d]) {
                        break;
                    }
                    idx[d] = 0;
                }
            }
        }
        set(n, 0, f.type, y, ints);
    }

    private static long[] transposeInts(long[] v, long[] shape, int[] perm) {
        int r = shape.length;
        long[] ys = new long[r];
        for (int i = 0; i < r; i++) {
            ys[i] = shape[perm[i]];
        }
        long[] strides = new long[r];
        long acc = 1;
        for (int d = r - 1; d >= 0; d--) {
            strides[d] = acc;
            acc *= shape[d];
        }
        long[] out = new long[v.length];
        long[] idx = new long[r];
        for (int k = 0; k < out.length; k++) {
            long src = 0;
            for (int d = 0; d < r; d++) {
                src += idx[d] * strides[perm[d]];
            }
            out[k] = v[(int) src];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < ys[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    /** {start, end, count} of an ONNX Slice along a dim of size {@code dim}. */
    public static long[] sliceRange(long start, long end, long step, long dim) {
        if (step == 0) {
            throw new AcdcException("Slice step 0");
        }
        if (start < 0) {
            start += dim;
        }
        if (end < 0) {
            end += dim;
        }
        long count;
        if (step > 0) {
            start = Math.max(0, Math.min(start, dim));
            end = Math.max(0, Math.min(end, dim));
            count = Math.max(0, (end - start + step - 1) / step);
        } else {
            start = Math.max(-1, Math.min(start, dim - 1));
            end = Math.max(-1, Math.min(end, dim - 1));
            count = Math.max(0, (start - end + (-step) - 1) / (-step));
        }
        return new long[] {start, end, count};
    }

    private void gather(Node n) {
        long[] data = shapeIn(n, 0);
        long[] idx = shapeIn(n, 1);
        int axis = clampAxis((int) n.attrInt("axis", 0), data.length);
        long[] y = new long[data.length - 1 + idx.length];
        int k = 0;
        for (int i = 0; i < axis; i++) {
            y[k++] = data[i];
        }
        for (long d : idx) {
            y[k++] = d;
        }
        for (int i = axis + 1; i < data.length; i++) {
            y[k++] = data[i];
        }
        Facts fd = in(n, 0);
        Facts fi = in(n, 1);
        long[] ints = null;
        if (data.length == 1 && fd.ints != null && fi.fullyKnownInts()) {
            ints = new long[fi.ints.length];
            for (int i = 0; i < ints.length; i++) {
                long j = fi.ints[i] < 0 ? fi.ints[i] + fd.ints.length : fi.ints[i];
                if (j < 0 || j >= fd.ints.length) {
                    throw new AcdcException("Gather '" + n.label() + "': index " + fi.ints[i] + " out of range");
                }
                ints[i] = fd.ints[(int) j];
            }
        }
        set(n, 0, fd.type, y, ints);
    }

    private long[] axesOf(Node n) {
        if (opset < 13 || n.inputs().size() < 2 || n.input(1).isEmpty()) {
            return n.attrInts("axes", null);
        }
        return constInts(n, 1, "the axes");
    }

    private void unsqueeze(Node n) {
        long[] x = shapeIn(n, 0);
        long[] axes = axesOf(n);
        if (axes == null) {
            throw new AcdcException("Unsqueeze '" + n.label() + "' has no axes");
        }
        int r = x.length + axes.length;
        boolean[] added = new boolean[r];
        for (long a : axes) {
            added[clampAxis((int) a, r)] = true;
        }
        long[] y = new long[r];
        int k = 0;
        for (int i = 0; i < r; i++) {
            y[i] = added[i] ? 1 : x[k++];
        }
        Facts f = in(n, 0);
        set(n, 0, f.type, y, f.ints);
    }

    /**
     * Resize's output shape (opset 11+: X, roi, scales, sizes): the constant {@code sizes}, else
     * {@code floor(x · scales)} with constant scales.
     */
    private long[] resizedShape(Node n) {
        long[] x = shapeIn(n, 0);
        if (opset < 11) {
            throw new AcdcException("Resize '" + n.label() + "' is opset " + opset + "'s form (X, scales); acdc reads "
                    + "Resize from opset 11 on: re-export the model at opset 11 or later");
        }
        if (n.inputs().size() > 3 && !n.input(3).isEmpty()) {
            Facts f = in(n, 3);
            if (f.ints == null) {
                throw new AcdcException("node '" + n.label() + "': the sizes ('" + n.input(3) + "') are computed at run "
                        + "time from values acdc cannot follow; acdc needs them constant or derived from shapes");
            }
            long[] sizes = f.ints.clone(); // an entry from a symbolic dimension (the batch) stays unknown: -1
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = sizes[i] == UNKNOWN || sizes[i] < 0 ? -1 : sizes[i];
            }
            if (sizes.length != x.length) {
                throw new AcdcException("Resize '" + n.label() + "': sizes " + Arrays.toString(sizes) + " for rank "
                        + x.length);
            }
            return sizes.clone();
        }
        float[] scales = constantFloats(n, 2, "the scales");
        if (scales == null || scales.length != x.length) {
            throw new AcdcException("Resize '" + n.label() + "' needs constant scales or sizes, one per dimension");
        }
        long[] y = new long[x.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = x[i] < 0 ? -1 : (long) Math.floor(x[i] * (double) scales[i]);
        }
        return y;
    }

    /** The float values of input {@code i}: an initializer or a Constant node's; null when absent or empty. */
    private float[] constantFloats(Node n, int i, String what) {
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

    private void squeeze(Node n) {
        long[] x = shapeIn(n, 0);
        long[] axes = axesOf(n);
        boolean[] drop = new boolean[x.length];
        if (axes == null) {
            for (int i = 0; i < x.length; i++) {
                drop[i] = x[i] == 1;
            }
        } else {
            for (long a : axes) {
                drop[clampAxis((int) a, x.length)] = true;
            }
        }
        List<Long> y = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (!drop[i]) {
                y.add(x[i]);
            }
        }
        Facts f = in(n, 0);
        set(n, 0, f.type, y.stream().mapToLong(Long::longValue).toArray(), f.ints);
    }

    private static int clampAxis(int a, int rank) {
        return a < 0 ? Math.max(0, a + rank) : Math.min(a, rank);
    }

    private static long prod(long[] s, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            if (s[i] < 0) {
                return -1;
            }
            p *= s[i];
        }
        return p;
    }
}
