package dev.acdc.quantize;

import dev.acdc.AcdcException;
import dev.acdc.decompose.WeightRoles;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.UpgradeOpset;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * int8 quantization of a CNN graph into standard opset-13 operators, in two modes.
 *
 * <p><b>Weights only</b> ({@link #weightsOnly}): every constant weight of a Conv/Gemm/MatMul, and the
 * ACDC coefficients and atoms (per row, in front of the kernel chain), is stored as symmetric int8 per
 * output channel with a {@code Cast} and a per-channel {@code Mul} that give the float back (constants
 * ONNX Runtime folds at load, unlike {@code DequantizeLinear}); activations stay float.
 *
 * <p><b>Static</b> ({@link #staticQdq}): in addition, QuantizeLinear/DequantizeLinear pairs (uint8,
 * per tensor, ranges from calibration) on the activations entering and leaving each Conv, Gemm, MatMul,
 * Add and pool, each Conv/Gemm/MatMul weight behind a per-channel {@code DequantizeLinear} of int8 (for a
 * kernel that an ACDC chain computes: a {@code QuantizeLinear} of it, which ONNX Runtime folds at load
 * because the chain's stored factors are dequantized by Cast/Mul), biases as int32 of scale
 * {@code sx·sw}, a ReLU that follows such a node folded into its output's quantization (zero point 0
 * clamps at zero exactly as ReLU does): the QDQ format ONNX Runtime fuses into its int8 kernels.
 *
 * <p>Requires a model {@link #prepare}d (constants folded, BN folded, opset ≥ 13); the calibration
 * that produces the ranges is the runtime's job, on the prepared model's tensor names.
 */
public final class Quantizer {
    /** The quantization the user asked for. */
    public enum Mode {
        WEIGHTS("int8-weights"), STATIC("int8");

        private final String id;

        Mode(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.id.equalsIgnoreCase(s)) {
                    return m;
                }
            }
            throw new AcdcException("--quantize must be int8-weights or int8, got '" + s + "'");
        }
    }

    /** Ops whose weight is quantized (weight input 1 constant, data input 0 not). */
    static final Set<String> COMPUTE = Set.of("Conv", "Gemm", "MatMul");
    /**
     * Ops whose weight the weight-only mode stores as int8: the compute ops and ConvTranspose (the static
     * mode keeps a ConvTranspose float: ONNX Runtime has no standard int8 kernel to fuse it into).
     */
    static final Set<String> WEIGHTS_ONLY_COMPUTE = Set.of("Conv", "Gemm", "MatMul", "ConvTranspose");
    /** Ops whose activations the static mode quantizes besides the compute ops. */
    static final Set<String> DATA_OPS = Set.of("Add", "GlobalAveragePool", "AveragePool", "MaxPool");

    /**
     * What was done: the quantized nodes, those kept float and why, notes, and for each quantized node
     * the value its consumers read in the float model and in the quantized one ({@code layers}: label →
     * {float value, quantized value}), for the per-layer error.
     */
    public record Result(Model model, Mode mode, List<String> quantized, List<String> keptFloat,
                         List<String> quantizedTensors, List<String> notes, Map<String, String[]> layers) {
    }

    private Quantizer() {
    }

    /**
     * A copy of {@code m} ready to quantize: constants and BNs folded, and the per-channel scale and shift a
     * fine-tuned ACDC model keeps after its convs (a float pass between the int8 conv and its ReLU otherwise),
     * opset raised to 13 (per-axis DequantizeLinear).
     */
    public static Model prepare(Model m) {
        Model p = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        PassManager.standard().run(p);
        new PassManager(List.of(new dev.acdc.passes.FoldChannelAffine())).run(p);
        if (p.opset() < 13) {
            new PassManager(List.of(new UpgradeOpset(13))).run(p);
        }
        requireFloat(p, "quantize");
        return p;
    }

    /**
     * Throws, naming the first Q/DQ node, if {@code m} is already quantized: {@code what} says what cannot
     * be done to it (e.g. "compress").
     */
    public static void requireFloat(Model m, String what) {
        for (Node n : m.graph().nodes()) {
            if (n.is("QuantizeLinear") || n.is("DequantizeLinear")
                    || (n.is("Cast") && m.graph().isInitializer(n.input(0))
                    && m.graph().initializer(n.input(0)).type() == DataType.INT8)) {
                throw new AcdcException("the model is quantized (node '" + n.label() + "' is " + n.opType() + " of int8); "
                        + what + " its float original, then quantize");
            }
        }
    }

    /** The values computable from initializers alone (the ACDC kernel chains, say). */
    static Set<String> constants(Graph g) {
        Set<String> c = new HashSet<>(g.initializers().keySet());
        for (Node n : g.nodes()) {
            boolean all = !n.inputs().isEmpty();
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !c.contains(in)) {
                    all = false;
                    break;
                }
            }
            if (all || n.is("Constant")) {
                c.addAll(n.outputs());
            }
        }
        return c;
    }

    /** The compute nodes the mode quantizes (weight constant, data not), minus the excluded ones. */
    static List<Node> computeNodes(Graph g, Pattern exclude, List<String> keptFloat) {
        return computeNodes(g, exclude, keptFloat, COMPUTE);
    }

    private static List<Node> computeNodes(Graph g, Pattern exclude, List<String> keptFloat, Set<String> ops) {
        Set<String> constant = constants(g);
        List<Node> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!ops.contains(n.opType()) || n.inputs().size() < 2) {
                continue;
            }
            if (constant.contains(n.input(0)) || !constant.contains(n.input(1))) {
                continue; // part of a constant chain, or a product of two activations
            }
            if (exclude != null && exclude.matcher(n.label()).find()) {
                keptFloat.add(n.label() + ": excluded by --quantize-exclude");
                continue;
            }
            out.add(n);
        }
        return out;
    }

    /** The axis of the output channels in the weight of {@code n}. */
    static int weightAxis(Node n) {
        return switch (n.opType()) {
            case "Conv" -> 0;
            case "ConvTranspose" -> 1; // [I, O/group, k...]: per output channel of a group
            case "Gemm" -> n.attrInt("transB", 0) != 0 ? 0 : 1;
            default -> 1; // MatMul: [K, N]
        };
    }

    /**
     * How the ACDC coefficients are scaled: one scale per row (one (output, input) channel pair of a block,
     * the finest) or one per atom (per column: a handful of floats per conv instead of one per row).
     */
    public enum CoefficientScales {
        ROW("row"), ATOM("atom");

        private final String id;

        CoefficientScales(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        /** The axis of the coefficient tensor ([rows, atoms]) that has its own scales. */
        int axis() {
            return this == ROW ? 0 : 1;
        }

        public static CoefficientScales parse(String s) {
            for (CoefficientScales c : values()) {
                if (c.id.equalsIgnoreCase(s)) {
                    return c;
                }
            }
            throw new AcdcException("--coefficient-scales must be row or atom, got '" + s + "'");
        }
    }

    /**
     * Weight-only int8: see the class comment. {@code m} must be {@link #prepare}d; it is changed.
     * {@code byteScales}: a weight's many scales are stored as one-byte codes, decoded by a chain of four nodes
     * (for a file whose names are short or whose chains local functions store once), else in half precision.
     */
    public static Result weightsOnly(Model m, Pattern exclude, CoefficientScales coefficientScales, boolean byteScales) {
        Graph g = m.graph();
        List<String> kept = new ArrayList<>();
        List<String> done = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Int8Weights w8 = new Int8Weights(m, coefficientScales, byteScales);
        Map<String, String[]> layers = new LinkedHashMap<>();
        for (Node n : computeNodes(g, exclude, kept, WEIGHTS_ONLY_COMPUTE)) {
            String w = n.input(1);
            if (g.isInitializer(w)) {
                n.setInput(1, w8.dequantized(w, weightAxis(n)));
                done.add(n.label());
            } else if (w8.decomposedKernel(n)) {
                done.add(n.label() + " (ACDC coefficients and atoms)");
            } else {
                kept.add(n.label() + ": its weight is computed by a chain acdc does not recognise");
                continue;
            }
            layers.put(n.label(), new String[] {n.output(0), n.output(0)});
        }
        g.removeUnusedInitializers();
        w8.recordRoles();
        return new Result(m, Mode.WEIGHTS, done, kept, List.of(), notes, layers);
    }

    /**
     * The int8 form of one model's stored weights: each float initializer replaced, once, by int8 + scale
     * and a {@code Cast}·{@code Mul} that gives the float back, whoever reads it.
     */
    private static final class Int8Weights {
        private final Model m;
        private final Graph g;
        private final Map<String, WeightRoles.Role> roles;
        private final CoefficientScales coefficientScales;
        private final boolean byteScales;
        /** float initializer → the value that gives it back; → its int8 initializer. */
        private final Map<String, String> dequantized = new LinkedHashMap<>();
        private final Map<String, String> int8 = new LinkedHashMap<>();
        /** coefficients whose per-atom scale went into their atoms' Mul: → their Cast; → their quantization. */
        private final Map<String, String> castOnly = new LinkedHashMap<>();
        private final Map<String, QuantMath.PerChannel> coefficientsQuantized = new LinkedHashMap<>();

        Int8Weights(Model m, CoefficientScales coefficientScales, boolean byteScales) {
            this.m = m;
            this.g = m.graph();
            this.roles = WeightRoles.of(m);
            this.coefficientScales = coefficientScales;
            this.byteScales = byteScales;
        }

        /** The ACDC coefficient and atom tensors of the chain that computes {@code n}'s kernel, dequantized. */
        boolean decomposedKernel(Node n) {
            Set<String> seen = new HashSet<>();
            List<String> todo = new ArrayList<>(List.of(n.input(1)));
            boolean any = false;
            while (!todo.isEmpty()) {
                String v = todo.remove(todo.size() - 1);
                if (!seen.add(v)) {
                    continue;
                }
                Node p = g.producer(v);
                if (p == null) {
                    continue;
                }
                if (mergedScales(p)) {
                    any = true;
                    continue;
                }
                for (int i = 0; i < p.inputs().size(); i++) {
                    String in = p.input(i);
                    WeightRoles.Role r = roles.get(in);
                    if (g.isInitializer(in) && (r == WeightRoles.Role.COEFFICIENTS || r == WeightRoles.Role.ATOMS)) {
                        p.setInput(i, dequantized(in, r == WeightRoles.Role.COEFFICIENTS ? coefficientScales.axis() : 0));
                        any = true;
                    } else if (dequantized.containsValue(in)) {
                        any = true;
                    } else {
                        todo.add(in);
                    }
                }
            }
            return any;
        }

        /**
         * With one scale per atom, the product of a MatMul of coefficients [rows, atoms] by atoms [atoms, taps]
         * needs one Mul, not two: {@code (α_q·diag(sα))·(diag(sA)·A_q) = α_q·(diag(sα·sA)·A_q)}. Stores both as
         * int8 (each rounded with its own scale, as {@link QuantMath#symmetric} would), the coefficients read
         * through a Cast alone (shared by every chain that reads them) and the atoms through a Cast and a Mul
         * by the product of the two scales; false (nothing changed) if {@code p} is not such a MatMul or its
         * atoms are read elsewhere too.
         */
        private boolean mergedScales(Node p) {
            if (coefficientScales != CoefficientScales.ATOM || !p.is("MatMul") || p.inputs().size() != 2) {
                return false;
            }
            String alpha = p.input(0);
            String atoms = p.input(1);
            if (roles.get(alpha) != WeightRoles.Role.COEFFICIENTS || roles.get(atoms) != WeightRoles.Role.ATOMS
                    || !g.isInitializer(alpha) || !g.isInitializer(atoms) || int8.containsKey(atoms)
                    || g.consumerIndex().getOrDefault(atoms, List.of()).size() != 1) {
                return false;
            }
            Tensor a = g.initializer(alpha);
            Tensor d = g.initializer(atoms);
            if (!a.isFloat() || !d.isFloat() || a.rank() != 2 || d.rank() != 2 || a.shape()[1] != d.shape()[0]) {
                return false;
            }
            QuantMath.PerChannel qa = coefficientsQuantized.computeIfAbsent(alpha, k -> QuantMath.symmetric(a.floats(), a.shape(), 1));
            QuantMath.PerChannel qd = QuantMath.symmetric(d.floats(), d.shape(), 0);
            float[] s = new float[qd.scales().length];
            for (int i = 0; i < s.length; i++) {
                s[i] = qa.scales()[i] * qd.scales()[i];
            }
            String castAlpha = castOnly.get(alpha);
            if (castAlpha == null) {
                String q = fresh(g, alpha + "_quantized");
                g.putInitializer(Tensor.ofLongs(q, DataType.INT8, a.shape(), qa.values()));
                castAlpha = new GraphBuilder(g).insertingAt(0).opNamed("Cast", alpha + "/Cast", alpha + "_float",
                        List.of(q), Attribute.ofInt("to", DataType.FLOAT.code()));
                castOnly.put(alpha, castAlpha);
                int8.put(alpha, q);
            }
            String q = fresh(g, atoms + "_quantized");
            String sName = fresh(g, atoms + "_scale");
            g.putInitializer(Tensor.ofLongs(q, DataType.INT8, d.shape(), qd.values()));
            g.putInitializer(Tensor.ofFloats(sName, new long[] {s.length, 1}, s));
            GraphBuilder b = new GraphBuilder(g).insertingAt(0);
            String f = b.opNamed("Cast", atoms + "/Cast", atoms + "_float", List.of(q), Attribute.ofInt("to", DataType.FLOAT.code()));
            String out = b.opNamed("Mul", atoms + "/Mul", atoms + "_scaled", List.of(f, sName));
            int8.put(atoms, q);
            dequantized.put(atoms, out);
            p.setInput(0, castAlpha);
            p.setInput(1, out);
            return true;
        }

        /**
         * Replaces float initializer {@code name} by its int8 form (scales along {@code axis}) and returns the
         * value to read instead (one per initializer, whoever reads it).
         */
        String dequantized(String name, int axis) {
            String have = dequantized.get(name);
            if (have != null) {
                return have;
            }
            Tensor t = g.initializer(name);
            if (!t.isFloat()) {
                return name;
            }
            // many scales (a coefficient tensor's per row): one byte each, read through a Cast, Mul, Exp and Mul of
            // constants, or in half precision, read through a Cast; ONNX Runtime folds either at load with the rest
            // of the chain, and the values are quantized with the very scales the chain gives back
            boolean many = t.shape()[axis] >= CODED_SCALES_FROM;
            boolean coded = many && byteScales;
            boolean half = many && !byteScales && maxAbs(t.floats()) / QuantMath.WEIGHT_MAX < 60000f;
            QuantMath.LogScales ls = coded ? QuantMath.symmetricLogScales(t.floats(), t.shape(), axis) : null;
            QuantMath.PerChannel q = coded ? ls.q() : half ? QuantMath.symmetricHalfScales(t.floats(), t.shape(), axis)
                    : QuantMath.symmetric(t.floats(), t.shape(), axis);
            String qName = fresh(g, name + "_quantized");
            String sName = fresh(g, name + "_scale");
            String out = fresh(g, name + "_dequantized");
            g.putInitializer(Tensor.ofLongs(qName, DataType.INT8, t.shape(), q.values()));
            // Cast and Mul of constants, not DequantizeLinear: ONNX Runtime folds them into a float weight when it
            // loads the model, so the model runs at the float model's speed; a DequantizeLinear it keeps unfolded (for
            // its QDQ fusions), and the conv then takes a computed weight every run (measured 1.7x slower on ResNet-20)
            long[] sShape = new long[t.rank()];
            java.util.Arrays.fill(sShape, 1);
            sShape[axis] = q.scales().length;
            GraphBuilder b = new GraphBuilder(g).insertingAt(0);
            String scale = sName;
            if (coded) {
                g.putInitializer(Tensor.ofLongs(sName, DataType.UINT8, sShape, ls.codes()));
                String stepName = fresh(g, sName + "_step");
                String baseName = fresh(g, sName + "_base");
                g.putInitializer(Tensor.ofFloats(stepName, new long[0], new float[] {ls.step()}));
                g.putInitializer(Tensor.ofFloats(baseName, new long[0], new float[] {ls.base()}));
                String k = b.opNamed("Cast", sName + "/Cast", sName + "_float", List.of(sName),
                        Attribute.ofInt("to", DataType.FLOAT.code()));
                String x = b.opNamed("Mul", sName + "/MulStep", sName + "_exponent", List.of(k, stepName));
                String e = b.opNamed("Exp", sName + "/Exp", sName + "_ratio", List.of(x));
                scale = b.opNamed("Mul", sName + "/MulBase", sName + "_decoded", List.of(e, baseName));
            } else if (half) {
                g.putInitializer(Tensor.ofFloat16(sName, sShape, q.scales()));
                scale = b.opNamed("Cast", sName + "/Cast", sName + "_float", List.of(sName),
                        Attribute.ofInt("to", DataType.FLOAT.code()));
            } else {
                g.putInitializer(Tensor.ofFloats(sName, sShape, q.scales()));
            }
            String f = b.opNamed("Cast", name + "/Cast", name + "_float", List.of(qName),
                    Attribute.ofInt("to", DataType.FLOAT.code()));
            out = b.opNamed("Mul", name + "/Mul", out, List.of(f, scale));
            dequantized.put(name, out);
            int8.put(name, qName);
            return out;
        }

        /** The weight roles now name the int8 tensors that hold the coefficients and atoms. */
        void recordRoles() {
            Map<String, WeightRoles.Role> now = new LinkedHashMap<>();
            roles.forEach((name, role) -> {
                if (role == WeightRoles.Role.COEFFICIENTS || role == WeightRoles.Role.ATOMS) {
                    String stored = int8.getOrDefault(name, name);
                    if (g.isInitializer(stored)) {
                        now.put(stored, role);
                    }
                }
            });
            if (m.metadata().containsKey(WeightRoles.KEY)) {
                WeightRoles.record(m, now);
            }
        }
    }

    /**
     * From this many scales on, a weight's scales are stored as one-byte codes (1 byte each instead of 4, plus
     * two scalars and four nodes, which local functions store once) or in half precision (2 bytes, one Cast):
     * ResNet-20's coefficient tensors have 256 rows each.
     */
    static final int CODED_SCALES_FROM = 32;

    private static float maxAbs(float[] w) {
        float m = 0;
        for (float v : w) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** A name not used in {@code g} yet: the project's naming rule ({@link GraphBuilder#fresh}). */
    private static String fresh(Graph g, String base) {
        return new GraphBuilder(g).fresh(base);
    }

    /**
     * The activation tensors the static mode needs ranges for, in {@code m} ({@link #prepare}d, not yet
     * changed): data inputs and outputs of the compute and data ops, a ReLU's output in place of the
     * tensor it reads when it will be folded; graph outputs stay float.
     */
    public static List<String> tensorsToCalibrate(Model m, Pattern exclude) {
        return new ArrayList<>(plan(m, exclude, new ArrayList<>()).tensors);
    }

    /** The constant kernels computed by a chain (not an initializer) that the static mode needs values of. */
    public static List<String> computedKernels(Model m, Pattern exclude) {
        List<String> out = new ArrayList<>();
        for (Node n : computeNodes(m.graph(), exclude, new ArrayList<>())) {
            if (!m.graph().isInitializer(n.input(1))) {
                out.add(n.input(1));
            }
        }
        return out;
    }

    private record StaticPlan(List<Node> compute, Map<Node, Node> foldedRelu, Set<String> tensors) {
    }

    private static StaticPlan plan(Model m, Pattern exclude, List<String> kept) {
        Graph g = m.graph();
        Set<String> constant = constants(g);
        List<Node> compute = computeNodes(g, exclude, kept);
        Map<String, List<Node>> consumers = g.consumerIndex();
        List<Node> ops = new ArrayList<>(compute);
        for (Node n : g.nodes()) {
            if (DATA_OPS.contains(n.opType()) && !(exclude != null && exclude.matcher(n.label()).find())
                    && n.inputs().stream().noneMatch(constant::contains)) {
                ops.add(n);
            }
        }
        Map<Node, Node> relu = new LinkedHashMap<>();
        Set<String> tensors = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            if (!ops.contains(n)) {
                continue;
            }
            int dataInputs = COMPUTE.contains(n.opType()) ? 1 : n.inputs().size();
            for (int i = 0; i < dataInputs; i++) {
                tensors.add(n.input(i));
            }
            String y = n.output(0);
            List<Node> cs = consumers.getOrDefault(y, List.of());
            if (!n.is("MaxPool") && cs.size() == 1 && cs.get(0).is("Relu") && !g.isGraphOutput(y)) {
                relu.put(n, cs.get(0));
                y = cs.get(0).output(0);
            }
            tensors.add(y);
        }
        tensors.removeIf(t -> g.isGraphOutput(t) || constant.contains(t) || t.isEmpty());
        return new StaticPlan(compute, relu, tensors);
    }

    /**
     * ONNX Runtime runs DequantizeLinear → GlobalAveragePool → QuantizeLinear as QLinearGlobalAveragePool, which
     * refuses a requantization factor s_x / (s_y·H·W) of 256 or more ("parameter out of computation range"): a
     * pooled value whose calibrated range is that much narrower than its input's (a random-weight EfficientNet's
     * head) gets its range widened until the factor is under 200, and a note says so.
     */
    private static void widenPooledRanges(Model m, Map<String, double[]> ranges, Map<String, QuantMath.Affine> params,
                                          List<String> notes) {
        Map<String, dev.acdc.ir.ShapeInference.Facts> facts = null;
        for (Node n : m.graph().nodes()) {
            if (!n.is("GlobalAveragePool") || !params.containsKey(n.input(0)) || !params.containsKey(n.output(0))) {
                continue;
            }
            if (facts == null) {
                facts = dev.acdc.ir.ShapeInference.inferWhatCanBe(m, Map.of());
            }
            dev.acdc.ir.ShapeInference.Facts f = facts.get(n.input(0));
            long[] shape = f == null ? null : f.shape();
            if (shape == null || shape.length < 3) {
                continue;
            }
            long area = 1;
            for (int i = 2; i < shape.length; i++) {
                area = shape[i] > 0 ? area * shape[i] : -1;
                if (area < 0) {
                    break;
                }
            }
            if (area <= 0) {
                continue;
            }
            double factor = params.get(n.input(0)).scale() / (params.get(n.output(0)).scale() * (double) area);
            if (factor >= 200) {
                double[] r = ranges.get(n.output(0));
                double widen = factor / 200;
                params.put(n.output(0), QuantMath.uint8(Math.min(0, r[0]) * widen, Math.max(0, r[1]) * widen));
                notes.add(String.format(java.util.Locale.ROOT, "%s: output range widened %.3gx for ONNX Runtime's "
                        + "QLinearGlobalAveragePool (its input's range is %.3gx wider)", n.label(), widen, factor * area));
            } else if (factor < 1e-6) {
                // ONNX Runtime refuses a ratio under 2^-32 too: an output range too small to quantize (under 1e-12,
                // scale 1) after an input range that was not (activations that vanish, as in a random-weight
                // EfficientNet's head). A mean lies within its input's range: the output takes the input's parameters
                params.put(n.output(0), params.get(n.input(0)));
                notes.add(String.format(java.util.Locale.ROOT, "%s: output quantized with its input's range for ONNX "
                        + "Runtime's QLinearGlobalAveragePool (its own range, %.3g wide, is too small to quantize)",
                        n.label(), ranges.get(n.output(0))[1] - ranges.get(n.output(0))[0]));
            }
        }
    }

    /**
     * Static int8 (QDQ). {@code ranges}: the clipping range of every tensor {@link #tensorsToCalibrate}
     * names; {@code kernels}: the values of every {@link #computedKernels}. {@code m} must be
     * {@link #prepare}d; it is changed. {@code byteScales}: as {@link #weightsOnly}'s.
     */
    public static Result staticQdq(Model m, Map<String, double[]> ranges, Map<String, float[]> kernels,
                                   Pattern exclude, CoefficientScales coefficientScales, boolean byteScales) {
        Graph g = m.graph();
        List<String> kept = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        StaticPlan plan = plan(m, exclude, kept);
        Int8Weights w8 = new Int8Weights(m, coefficientScales, byteScales);
        // fold each ReLU into the quantization of the value it reads
        for (Map.Entry<Node, Node> e : plan.foldedRelu.entrySet()) {
            e.getKey().setOutput(0, e.getValue().output(0));
            g.nodes().remove(e.getValue());
        }
        Map<String, QuantMath.Affine> params = new LinkedHashMap<>();
        for (String t : plan.tensors) {
            double[] r = ranges.get(t);
            if (r == null) {
                throw new IllegalArgumentException("no calibration range for '" + t + "'");
            }
            params.put(t, QuantMath.uint8(r[0], r[1]));
        }
        widenPooledRanges(m, ranges, params, notes);
        // each activation's scale and zero point, stored once: its Q/DQ pair and the biases of the nodes reading it share them
        Map<String, String[]> stored = new LinkedHashMap<>();
        for (Map.Entry<String, QuantMath.Affine> e : params.entrySet()) {
            stored.put(e.getKey(), activationParameters(g, e.getKey(), e.getValue()));
        }
        List<String> done = new ArrayList<>();
        for (Node n : plan.compute) {
            String x = n.input(0);
            QuantMath.Affine xq = params.get(x);
            String w = n.input(1);
            int axis = weightAxis(n);
            QuantMath.PerChannel wq;
            long[] wShape;
            String[] names;
            if (g.isInitializer(w)) {
                Tensor t = g.initializer(w);
                wShape = t.shape();
                wq = QuantMath.symmetric(t.floats(), wShape, axis);
                names = int8Weight(g, m.opset(), w, wq, wShape, axis, null);
                n.setInput(1, names[0]);
            } else {
                float[] values = kernels.get(w);
                if (values == null) {
                    throw new IllegalArgumentException("no kernel values for '" + w + "'");
                }
                w8.decomposedKernel(n); // the stored coefficients and atoms, int8 too
                wShape = shapeOfKernel(n, values.length, g);
                wq = QuantMath.symmetric(values, wShape, axis);
                names = int8Weight(g, m.opset(), w, wq, wShape, axis, w);
                n.setInput(1, names[0]);
            }
            if (n.inputs().size() > 2 && !n.input(2).isEmpty() && g.isInitializer(n.input(2)) && xq != null) {
                Tensor b = g.initializer(n.input(2));
                if (b.rank() == 1 && b.numel() == wq.scales().length) {
                    n.setInput(2, int32Bias(g, b, xq.scale(), stored.get(x)[0], wq.scales(), names[1]));
                } else {
                    notes.add(n.label() + ": bias of shape " + java.util.Arrays.toString(b.shape()) + " kept float");
                }
            }
            done.add(n.label() + (xq == null ? " (weights only: its input is not quantized)" : ""));
        }
        // Q/DQ on each activation, right after the node that makes it
        Map<String, Integer> position = new LinkedHashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            for (String o : g.nodes().get(i).outputs()) {
                position.put(o, i);
            }
        }
        Map<String, String> dequantizedName = new LinkedHashMap<>();
        List<String> order = new ArrayList<>(plan.tensors);
        order.sort((a, b) -> Integer.compare(position.getOrDefault(b, -1), position.getOrDefault(a, -1)));
        for (String t : order) { // from the last, so earlier positions stay valid
            String[] sz = stored.get(t);
            List<String> qdqInputs = sz[1] == null ? List.of(sz[0]) : List.of(sz[0], sz[1]);
            String d = fresh(g, t + "_dequantized");
            for (Node c : g.nodes()) {
                c.replaceInput(t, d); // before the pair exists, so its QuantizeLinear keeps reading t
            }
            GraphBuilder b = new GraphBuilder(g).insertingAt(position.getOrDefault(t, -1) + 1);
            List<String> in = new ArrayList<>(List.of(t));
            in.addAll(qdqInputs);
            String q = b.opNamed("QuantizeLinear", t + "/QuantizeLinear", t + "_quantized", in);
            List<String> back = new ArrayList<>(List.of(q));
            back.addAll(qdqInputs);
            b.opNamed("DequantizeLinear", t + "/DequantizeLinear", d, back);
            dequantizedName.put(t, d);
        }
        g.removeUnusedInitializers();
        w8.recordRoles();
        Map<String, String[]> layers = new LinkedHashMap<>();
        for (Node n : plan.compute) {
            String y = n.output(0);
            layers.put(n.label(), new String[] {y, dequantizedName.getOrDefault(y, y)});
        }
        return new Result(m, Mode.STATIC, done, kept, List.copyOf(plan.tensors), notes, layers);
    }

    /** The 4-D (Conv) or 2-D shape of a computed kernel: from the chain's final Reshape target. */
    private static long[] shapeOfKernel(Node n, int count, Graph g) {
        Node p = g.producer(n.input(1));
        while (p != null && p.is("Mul")) { // a per-channel scale folded onto the chain's end
            p = g.producer(p.input(0));
        }
        if (p != null && p.is("Reshape") && g.isInitializer(p.input(1))) {
            long[] s = g.initializer(p.input(1)).longs().clone();
            if (Tensor.numel(s) == count) {
                return s;
            }
        }
        throw new AcdcException("cannot tell the shape of the kernel '" + n.input(1) + "' of node '" + n.label() + "'");
    }

    /**
     * An int8 weight for a compute node: the stored int8 initializer (or, for a computed kernel
     * {@code computed}, a QuantizeLinear of it) and its DequantizeLinear; returns {dequantized output, the
     * value holding its per-channel scales} (a stored vector, or computed from a computed kernel).
     */
    private static String[] int8Weight(Graph g, long opset, String w, QuantMath.PerChannel wq, long[] shape, int axis,
                                       String computed) {
        int c = wq.scales().length;
        String sName = fresh(g, w + "_scale");
        String zName = fresh(g, w + "_zero_point");
        g.putInitializer(Tensor.ofLongs(zName, DataType.INT8, new long[] {c}, new long[c]));
        String qName = fresh(g, w + "_quantized");
        String out = fresh(g, w + "_dequantized");
        int at = 0;
        if (computed == null) {
            g.putInitializer(Tensor.ofLongs(qName, DataType.INT8, shape, wq.values()));
        } else {
            at = g.nodes().indexOf(g.producer(computed)) + 1;
        }
        GraphBuilder b = new GraphBuilder(g).insertingAt(at);
        if (computed != null && !hasZeroChannel(wq)) {
            // the scales of a computed kernel computed from it, as QuantMath.symmetric does (max|w| / 127 per
            // channel, float division): constants ONNX Runtime folds at load, and a float per channel not stored
            long[] axes = new long[shape.length - 1];
            for (int d = 0, k = 0; d < shape.length; d++) {
                if (d != axis) {
                    axes[k++] = d;
                }
            }
            String abs = b.opNamed("Abs", w + "/Abs", w + "_abs", List.of(computed));
            String max;
            if (opset >= 18) {
                String axesName = fresh(g, w + "_axes");
                g.putInitializer(Tensor.ofLongs(axesName, DataType.INT64, new long[] {axes.length}, axes));
                max = b.opNamed("ReduceMax", w + "/ReduceMax", w + "_max", List.of(abs, axesName), Attribute.ofInt("keepdims", 0));
            } else {
                max = b.opNamed("ReduceMax", w + "/ReduceMax", w + "_max", List.of(abs), Attribute.ofInts("axes", axes),
                        Attribute.ofInt("keepdims", 0));
            }
            String limit = fresh(g, w + "_limit");
            g.putInitializer(Tensor.ofFloats(limit, new long[0], new float[] {QuantMath.WEIGHT_MAX}));
            sName = b.opNamed("Div", w + "/scale", sName, List.of(max, limit));
        } else {
            g.putInitializer(Tensor.ofFloats(sName, new long[] {c}, wq.scales()));
        }
        if (computed != null) {
            qName = b.opNamed("QuantizeLinear", w + "/QuantizeLinear", qName, List.of(computed, sName, zName),
                    Attribute.ofInt("axis", axis));
        }
        out = b.opNamed("DequantizeLinear", w + "/DequantizeLinear", out, List.of(qName, sName, zName),
                Attribute.ofInt("axis", axis));
        return new String[] {out, sName};
    }

    /** Whether a channel of {@code q} is all zero (its scale 1 by convention, not max|w| / 127). */
    private static boolean hasZeroChannel(QuantMath.PerChannel q) {
        boolean[] nonzero = new boolean[q.scales().length];
        for (int i = 0; i < q.values().length; i++) {
            nonzero[q.channelOf(i)] |= q.values()[i] != 0;
        }
        for (boolean nz : nonzero) {
            if (!nz) {
                return true;
            }
        }
        return false;
    }

    /**
     * The stored scale of activation {@code t}, and its uint8 zero point unless it is 0: QuantizeLinear's
     * default (uint8, zero), which every activation after a folded ReLU has; returns {scale, zero point or null}.
     */
    private static String[] activationParameters(Graph g, String t, QuantMath.Affine a) {
        String s = fresh(g, t + "_scale");
        g.putInitializer(Tensor.ofFloats(s, new long[0], new float[] {a.scale()}));
        if (a.zeroPoint() == 0) {
            return new String[] {s, null};
        }
        String z = fresh(g, t + "_zero_point");
        g.putInitializer(Tensor.ofLongs(z, DataType.UINT8, new long[0], new long[] {a.zeroPoint()}));
        return new String[] {s, z};
    }

    /**
     * The int32 bias of a node whose input has scale {@code xScale} (stored as {@code xScaleName}) and whose
     * weight has per-channel scales {@code wScales} ({@code wScaleName}): its DequantizeLinear's scale
     * {@code sx·sw} is a Mul of those two stored constants (folded by ONNX Runtime at load, before its QDQ
     * fusion) rather than a third copy, and its zero point left out (int32, zero: the default).
     */
    private static String int32Bias(Graph g, Tensor b, float xScale, String xScaleName, float[] wScales,
                                    String wScaleName) {
        long[] q = QuantMath.bias(b.floats(), xScale, wScales);
        String base = b.name();
        String qName = fresh(g, base + "_quantized");
        g.putInitializer(Tensor.ofLongs(qName, DataType.INT32, b.shape(), q));
        Node scaleProducer = g.producer(wScaleName); // a computed kernel's scales are computed too
        GraphBuilder gb = new GraphBuilder(g).insertingAt(scaleProducer == null ? 0 : g.nodes().indexOf(scaleProducer) + 1);
        String sName = gb.opNamed("Mul", base + "/scale", base + "_scale", List.of(wScaleName, xScaleName));
        return gb.opNamed("DequantizeLinear", base + "/DequantizeLinear", base + "_dequantized", List.of(qName, sName),
                Attribute.ofInt("axis", 0));
    }
}
