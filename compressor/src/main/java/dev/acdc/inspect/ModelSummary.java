package dev.acdc.inspect;

import dev.acdc.analysis.ConvCensus;
import dev.acdc.analysis.ConvShape;
import dev.acdc.analysis.ResidualStructure;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.OpSchema;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a model costs: parameters, multiply-adds at an input shape, bytes on disk, the operator
 * histogram and a row per convolution. Multiply-adds count Conv, Gemm and MatMul (the ops that
 * dominate a CNN); element-wise ops are not counted.
 */
public record ModelSummary(long params, long macs, long bytes, Map<String, Integer> ops, List<ConvInfo> convs,
                           long[] inputShape, List<String> nonFinite, ResidualStructure residual,
                           Map<String, List<Node>> unsupported, int unsized, List<String> openSpatial) {
    /**
     * The size an input's open spatial dimension (H or W, declared symbolic) is counted and probed at when no
     * --input-shape gives one: ImageNet's, never 1 (a 1×1 image would count a fraction of the MACs and make the
     * probe prove nothing).
     */
    public static final int OPEN_SPATIAL_SIZE = 224;

    /**
     * "input 'x' leaves H, W open: counted and probed at 224x224 (give --input-shape N,C,H,W for the size it
     * runs at)", or null when the input's spatial size is declared or given.
     */
    public String openSpatialNote() {
        if (openSpatial.isEmpty()) {
            return null;
        }
        return "the model's input leaves " + String.join(", ", openSpatial) + " open: counted and probed at "
                + OPEN_SPATIAL_SIZE + " (give --input-shape N,C,H,W for the size it runs at)";
    }

    /** Whether {@link #macs} counts every Conv/Gemm/MatMul: false when some sit after an operator acdc has no rule for. */
    public boolean macsComplete() {
        return unsized == 0;
    }

    /** Summarises a model; {@code inputShape} may be null to use the declared one (batch → 1). */
    public static ModelSummary of(Model m, long[] inputShape, long fileBytes) {
        OpSchema.checkModel(m);
        // the jobs read models they will rewrite: every shape must be known (an operator without a rule's from
        // the shapes the model declares, which the jobs measure in ONNX Runtime)
        return summarise(m, inputShape, fileBytes, false);
    }

    /**
     * As {@link #of}, for a model with operators acdc has no rule for: they are listed in
     * {@link #unsupported}, convolutions after them show unknown multiply-adds (-1) and {@link #macs}
     * counts only those of known size ({@link #macsComplete}).
     */
    public static ModelSummary whatCanBeSeen(Model m, long[] inputShape, long fileBytes) {
        return summarise(m, inputShape, fileBytes, true);
    }

    private static ModelSummary summarise(Model m, long[] inputShape, long fileBytes, boolean lenient) {
        Graph g = m.graph();
        // operators acdc has no rule for do not stop inspect: it lists them all and what it can see around them
        OpSchema.checkOpset(m);
        Map<String, List<Node>> unsupported = OpSchema.unknownOperators(g);
        for (Node n : g.nodes()) {
            if (OpSchema.known(n)) {
                OpSchema.check(n);
            }
        }
        long[] shape = inputShape;
        List<ValueInfo> data = g.dataInputs();
        List<String> symbolic = new ArrayList<>(); // non-batch dims the declaration leaves open
        List<String> openSpatial = new ArrayList<>(); // of those, the spatial ones (sized OPEN_SPATIAL_SIZE)
        // several inputs (an image and a gain, say): the first sets the shape the convs are counted at
        if (shape == null && !data.isEmpty() && data.get(0).shape() != null) {
            shape = data.get(0).shape();
            // an image's spatial axes: 2.. of [N, C, H, W] (or [N, C, L]); open ones get a real size, not 1
            boolean image = shape.length >= 3 && shape[1] > 0;
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = 1;
                    if (i > 0) {
                        ValueInfo.Dim d = data.get(0).dims().get(i);
                        String name = d.param() != null && !d.param().isEmpty() ? d.param() : "dim " + i;
                        symbolic.add(name);
                        if (image && i >= 2) {
                            shape[i] = OPEN_SPATIAL_SIZE;
                            openSpatial.add(name);
                        }
                    }
                }
            }
        }
        Map<String, long[]> given = shape == null ? Map.of() : Map.of("", shape);
        Map<String, ShapeInference.Facts> facts;
        try {
            facts = unsupported.isEmpty() || !lenient ? ShapeInference.infer(m, given)
                    : ShapeInference.inferWhatCanBe(m, given);
        } catch (dev.acdc.AcdcException e) {
            if (symbolic.isEmpty()) {
                throw e;
            }
            throw new dev.acdc.AcdcException("input '" + data.get(0).name() + "' declares " + data.get(0).shapeString()
                    + " with " + String.join(", ", symbolic) + " left open; taken as " + (openSpatial.isEmpty() ? "1"
                    : OPEN_SPATIAL_SIZE + " (spatial) or 1") + ": " + e.getMessage()
                    + ". Give the size the model runs at with --input-shape N,C,H,W (inspect, compress), "
                    + "e.g. --input-shape 1,3,224,224");
        }
        Map<String, Integer> ops = new TreeMap<>();
        List<ConvInfo> convs = new ArrayList<>();
        List<ConvShape> census = ConvCensus.of(g, facts);
        ResidualStructure residual = ResidualStructure.of(g, facts, census);
        Map<Node, ConvShape> shapeOf = new java.util.HashMap<>();
        census.forEach(c -> shapeOf.put(c.node(), c));
        long macs = 0;
        int unsized = 0;
        java.util.Set<String> constant = new java.util.HashSet<>(g.initializers().keySet());
        for (Node n : g.nodes()) {
            ops.merge(n.opType(), 1, Integer::sum);
            if (!n.inputs().isEmpty() && n.inputs().stream().allMatch(i -> i.isEmpty() || constant.contains(i))) {
                // computed from constants only: runtimes fold it at load, it costs nothing per inference
                constant.addAll(n.outputs());
                continue;
            }
            boolean conv = n.is("Conv") || n.is("ConvTranspose");
            if (!sized(n, facts)) {
                if (conv) {
                    convs.add(conv(shapeOf.get(n), facts, residual));
                }
                if (conv || n.is("Gemm") || n.is("MatMul")) {
                    unsized++;
                }
                continue;
            }
            if (conv) {
                ConvInfo c = conv(shapeOf.get(n), facts, residual);
                convs.add(c);
                macs += c.macs();
            } else if (OpSchema.known(n)) {
                macs += dev.acdc.ir.Operators.of(n.opType()).macs().of(n, facts);
            }
        }
        return new ModelSummary(g.parameterCount(), macs, fileBytes, ops, convs, shape,
                dev.acdc.ir.NonFiniteWeights.describe(g), residual, unsupported, unsized, List.copyOf(openSpatial));
    }

    /** Whether the node's first two inputs and its output have known shapes (not after an unknown operator). */
    private static boolean sized(Node n, Map<String, ShapeInference.Facts> facts) {
        if (n.inputs().isEmpty() || n.outputs().isEmpty()) {
            return false; // a Constant, or a malformed node of an operator acdc has no rule for
        }
        for (String v : List.of(n.input(0), n.inputs().size() > 1 ? n.input(1) : n.input(0), n.output(0))) {
            ShapeInference.Facts f = facts.get(v);
            if (f == null || f.shape() == null) {
                return false;
            }
        }
        return true;
    }

    private static long positive(long d) {
        return d < 0 ? 1 : d;
    }

    /** One conv's row: kernel, strides and kind from the census; parameters and multiply-adds from its weight. */
    private static ConvInfo conv(ConvShape c, Map<String, ShapeInference.Facts> facts, ResidualStructure residual) {
        Node n = c.node();
        int block = residual.blockOf(n);
        int stage = residual.stageOf(n);
        long[] w = facts.get(n.input(1)) == null ? null : facts.get(n.input(1)).shape();
        if (w == null || w.length < 2) { // its weight comes from an operator acdc has no rule for
            return new ConvInfo(n.label(), 0, 0, 0, 0, c.group(), c.strides(), 0, -1, "unknown", block, stage);
        }
        long params;
        try {
            long biases = c.transposed() ? w[1] * c.group() : w[0];
            params = Tensor.numel(w) + (n.inputs().size() > 2 && !n.input(2).isEmpty() ? biases : 0);
        } catch (ArithmeticException e) {
            throw new dev.acdc.AcdcException("Conv '" + n.label() + "': weight shape " + java.util.Arrays.toString(w)
                    + " holds more values than a model can");
        }
        long macs = dev.acdc.ir.ops.ConvolutionRules.convMacs(n, facts); // -1: the size is not known
        return new ConvInfo(n.label(), c.out(), c.inPerGroup(), c.kh(), c.kw(), c.group(), c.strides(), params, macs,
                c.kind(), block, stage);
    }
}
