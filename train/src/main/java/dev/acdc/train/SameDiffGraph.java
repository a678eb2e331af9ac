package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.PadMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A trainable SameDiff graph built from the IR (after the standard passes). BatchNormalization runs in
 * inference mode with its running statistics, or, built with {@code trainingBatchNorm}, normalises by the
 * batch's statistics while the trainer keeps the running ones ({@link TrainingBatchNorm}). Every float
 * initializer that {@code trainable} selects becomes a variable, the rest constants. A compact ACDC model's kernel
 * chain (MatMul(α, atoms) → Reshape → Transpose → Reshape → Conv) is translated like any other ops, so
 * each convolution's kernel is computed in the graph from its set's one coefficient variable and its
 * own atoms: gradients reach both and sharing is real.
 *
 * <p>Conv weights that are plain initializers are stored in ND4J's {@code [kH, kW, iC, oC]} layout
 * (ONNX's is {@code [O, I, kH, kW]}); computed kernels are permuted in the graph. {@link #writeBack}
 * undoes the layout when copying trained values into the model.
 */
public final class SameDiffGraph {
    public static final String INPUT = "input";

    private final SameDiff sd;
    private final Model model;
    private final Map<String, SDVariable> values = new HashMap<>();
    /** Float initializers turned into SameDiff variables or constants, with whether they were permuted. */
    private final Map<String, Boolean> permuted = new LinkedHashMap<>();
    private final Set<String> variables = new LinkedHashSet<>();
    private final Map<String, ShapeInference.Facts> facts;
    private final SDVariable output;
    /** Whether BatchNormalization normalises by batch statistics (training) or running ones. */
    private final boolean trainingBn;
    /** BN running statistics (ONNX initializer name → values), updated by {@link #updateRunningStats}. */
    private final Map<String, float[]> running = new LinkedHashMap<>();
    private final List<BatchStats> batchStats = new java.util.ArrayList<>();

    /** A training-mode BN's batch mean and variance outputs and the running statistics they feed. */
    private record BatchStats(String meanInit, String varInit, String meanOut, String varOut, long spatial) {
    }

    private SameDiffGraph(Model m, Predicate<String> trainable0, boolean trainingBn) {
        this.model = m;
        this.trainingBn = trainingBn;
        this.sd = SameDiff.create();
        if (trainingBn) {
            sd.addListeners(new FusedBatchNorm.PlainBackwardKernel());
        }
        this.facts = ShapeInference.infer(m);
        Graph g = m.graph();
        List<ValueInfo> ins = g.dataInputs();
        if (ins.size() != 1 || g.outputs().size() < 1) {
            throw new AcdcException("fine-tuning needs a model with one input, got " + ins.size());
        }
        ValueInfo in = ins.get(0);
        long[] shape = in.shape();
        shape[0] = -1;
        values.put(in.name(), sd.placeHolder(INPUT, DataType.FLOAT, shape));
        Set<String> stats = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            if (n.is("BatchNormalization") && n.inputs().size() >= 5) {
                stats.add(n.input(3));
                stats.add(n.input(4));
            }
        }
        Predicate<String> trainable = name -> !stats.contains(name) && trainable0.test(name);
        Set<String> convWeights = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            if (n.is("Conv") && g.isInitializer(n.input(1))) {
                convWeights.add(n.input(1));
            }
        }
        for (Tensor t : g.initializers().values()) {
            if (t.isFloat() && t.numel() > 0) { // an empty one (Resize's roi) is never read as a value
                boolean perm = convWeights.contains(t.name());
                INDArray arr = Nd4j.create(t.floats(), t.shape(), 'c');
                if (perm) {
                    arr = arr.permute(2, 3, 1, 0).dup('c');
                }
                SDVariable v = trainable.test(t.name()) ? sd.var(safe(t.name()), arr) : sd.constant(safe(t.name()), arr);
                if (trainable.test(t.name())) {
                    variables.add(t.name());
                }
                permuted.put(t.name(), perm);
                if (stats.contains(t.name())) {
                    running.put(t.name(), t.floats().clone());
                }
                values.put(t.name(), v);
            }
        }
        for (Node n : g.nodes()) {
            try {
                translate(n);
            } catch (AcdcException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new AcdcException("cannot build the training graph at node '" + n.label() + "' (" + n.opType()
                        + "): " + e.getMessage());
            }
        }
        this.output = values.get(g.outputs().get(0).name()).rename("logits");
    }

    /** Builds the graph; {@code trainable} picks the initializers that get gradients. */
    public static SameDiffGraph build(Model m, Predicate<String> trainable) {
        return new SameDiffGraph(m, trainable, false);
    }

    /**
     * As {@link #build(Model, Predicate)}; with {@code trainingBatchNorm}, BatchNormalization normalises by
     * the batch's statistics, whose values {@link #batchStatOutputs} names for {@link #updateRunningStats}.
     */
    public static SameDiffGraph build(Model m, Predicate<String> trainable, boolean trainingBatchNorm) {
        return new SameDiffGraph(m, trainable, trainingBatchNorm);
    }

    private static String safe(String name) {
        return "w:" + name.replaceAll("[^A-Za-z0-9_./:-]", "_");
    }

    public SameDiff sameDiff() {
        return sd;
    }

    public SDVariable logits() {
        return output;
    }

    public Model model() {
        return model;
    }

    /** ONNX names of the trainable initializers. */
    public Set<String> variables() {
        return Set.copyOf(variables);
    }

    /** The SameDiff variable name of an initializer. */
    public String sdName(String initializer) {
        return safe(initializer);
    }

    /** The ONNX names of what training changes: the variables and the BN running statistics. */
    public Set<String> state() {
        Set<String> s = new LinkedHashSet<>(variables);
        s.addAll(running.keySet());
        return s;
    }

    /** SameDiff names of the training-mode BNs' batch means and variances, to request with the loss. */
    public List<String> batchStatOutputs() {
        List<String> l = new java.util.ArrayList<>();
        for (BatchStats b : batchStats) {
            l.add(b.meanOut());
            l.add(b.varOut());
        }
        return l;
    }

    /**
     * Moves the running statistics towards a step's batch statistics:
     * {@code r ← (1−momentum)·r + momentum·batch}, the variance unbiased over {@code batch·H·W} values.
     */
    public void updateRunningStats(Map<String, INDArray> outputs, int batch, double momentum) {
        for (BatchStats b : batchStats) {
            float[] mean = outputs.get(b.meanOut()).dup('c').data().asFloat();
            float[] var = outputs.get(b.varOut()).dup('c').data().asFloat();
            long count = batch * b.spatial();
            double unbias = count > 1 ? count / (count - 1.0) : 1;
            float[] rm = running.get(b.meanInit());
            float[] rv = running.get(b.varInit());
            for (int i = 0; i < rm.length; i++) {
                rm[i] = (float) ((1 - momentum) * rm[i] + momentum * mean[i]);
                rv[i] = (float) ((1 - momentum) * rv[i] + momentum * var[i] * unbias);
            }
        }
    }

    /** Per-channel mean and (biased) variance of the named 4-D values on batch {@code x}. */
    public Map<String, float[][]> channelStats(INDArray x, List<String> valueNames) {
        Map<String, String> sdNames = new LinkedHashMap<>();
        for (String v : valueNames) {
            sdNames.put(values.get(v).name(), v);
        }
        Map<String, INDArray> out = sd.output(Map.of(INPUT, x), List.copyOf(sdNames.keySet()));
        Map<String, float[][]> r = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : sdNames.entrySet()) {
            INDArray a = out.get(e.getKey());
            INDArray mean = a.mean(0, 2, 3);
            INDArray var = a.var(false, 0, 2, 3);
            r.put(e.getValue(), new float[][] {mean.dup('c').data().asFloat(), var.dup('c').data().asFloat()});
        }
        return r;
    }

    /** Copies the trained values of the variables and the running statistics back into the model. */
    public void writeBack() {
        Graph g = model.graph();
        for (Map.Entry<String, float[]> e : running.entrySet()) {
            g.putInitializer(Tensor.ofFloats(e.getKey(), g.initializer(e.getKey()).shape(), e.getValue().clone()));
        }
        for (String name : variables) {
            INDArray arr = sd.getVariable(safe(name)).getArr();
            Tensor old = g.initializer(name);
            if (permuted.get(name)) {
                arr = arr.permute(3, 2, 0, 1);
            }
            float[] v = arr.dup('c').data().asFloat();
            g.putInitializer(Tensor.ofFloats(name, old.shape(), v));
        }
    }

    /** The SameDiff name of an IR value computed by the graph. */
    public String valueName(String irValue) {
        SDVariable v = values.get(irValue);
        if (v == null) {
            throw new AcdcException("value '" + irValue + "' is not in the training graph");
        }
        return v.name();
    }

    /** Runs the graph on a batch; returns logits [n, classes]. */
    public INDArray output(INDArray x) {
        return sd.output(Map.of(INPUT, x), "logits").get("logits");
    }

    /** Runs the graph on a batch given as plain floats of {@code shape} (C order); returns the logits, flat. */
    public float[] output(float[] x, long[] shape) {
        return output(org.nd4j.linalg.factory.Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
    }

    // ------------------------------------------------------------------ translation

    private SDVariable in(Node n, int i) {
        SDVariable v = values.get(n.input(i));
        if (v == null) {
            Tensor t = model.graph().initializer(n.input(i));
            if (t != null) {
                v = sd.constant(Nd4j.create(t.floats(), t.shape(), 'c'));
                values.put(n.input(i), v);
            } else {
                throw new AcdcException("value '" + n.input(i) + "' is not available");
            }
        }
        return v;
    }

    private long[] ints(Node n, int i) {
        ShapeInference.Facts f = facts.get(n.input(i));
        if (f == null || !f.fullyKnownInts()) {
            throw new AcdcException("input " + i + " must be a constant");
        }
        return f.ints();
    }

    private long[] shape(String v) {
        return facts.get(v).shape();
    }

    private void set(Node n, SDVariable v) {
        values.put(n.output(0), v);
    }

    private void translate(Node n) {
        ShapeInference.Facts f = facts.get(n.output(0));
        boolean mask = f != null && f.type() == dev.acdc.ir.DataType.BOOL && !f.fullyKnownInts(); // a comparison of data
        if (f != null && f.type() != dev.acdc.ir.DataType.FLOAT && f.type() != dev.acdc.ir.DataType.DOUBLE && !mask) {
            // shape arithmetic (Shape → Gather → Concat ...): its results were resolved by inference
            return;
        }
        switch (n.opType()) {
            case "Conv" -> conv(n);
            case "ConvTranspose" -> convTranspose(n);
            case "Relu" -> set(n, sd.nn().relu(in(n, 0), 0));
            case "LeakyRelu" -> set(n, sd.nn().leakyRelu(in(n, 0), n.attrFloat("alpha", 0.01f)));
            case "Sigmoid" -> set(n, sd.nn().sigmoid(in(n, 0)));
            case "HardSigmoid" -> {
                double a = n.attrFloat("alpha", 0.2f);
                double b = n.attrFloat("beta", 0.5f);
                set(n, sd.math().clipByValue(in(n, 0).mul(a).add(b), 0, 1));
            }
            case "HardSwish" -> set(n, in(n, 0).mul(sd.math().clipByValue(in(n, 0).mul(1.0 / 6).add(0.5), 0, 1)));
            case "Clip" -> {
                double lo = n.inputs().size() > 1 && !n.input(1).isEmpty()
                        ? model.graph().initializer(n.input(1)).floats()[0] : -Float.MAX_VALUE;
                double hi = n.inputs().size() > 2 && !n.input(2).isEmpty()
                        ? model.graph().initializer(n.input(2)).floats()[0] : Float.MAX_VALUE;
                set(n, sd.math().clipByValue(in(n, 0), lo, hi));
            }
            case "Add" -> set(n, in(n, 0).add(in(n, 1)));
            case "Sub" -> set(n, in(n, 0).sub(in(n, 1)));
            case "Mul" -> set(n, in(n, 0).mul(in(n, 1)));
            case "Div" -> set(n, in(n, 0).div(in(n, 1)));
            case "Softmax", "LogSoftmax" -> {
                long axis = n.attrInt("axis", -1);
                if (shape(n.input(0)).length != 2 || (axis != -1 && axis != 1)) {
                    throw new AcdcException(n.opType() + " is supported for fine-tuning over the last axis of 2-D logits");
                }
                SDVariable l = Distillation.logSoftmax(in(n, 0));
                set(n, n.is("Softmax") ? sd.math().exp(l) : l);
            }
            case "GlobalAveragePool" -> set(n, sd.mean(in(n, 0), true, 2, 3));
            case "Abs" -> set(n, sd.math().abs(in(n, 0)));
            case "Neg" -> set(n, in(n, 0).neg());
            case "Exp" -> set(n, sd.math().exp(in(n, 0)));
            case "Log" -> set(n, sd.math().log(in(n, 0)));
            case "Sqrt" -> set(n, sd.math().sqrt(in(n, 0)));
            case "Reciprocal" -> set(n, in(n, 0).rdiv(1.0));
            case "Tanh" -> set(n, sd.math().tanh(in(n, 0)));
            case "Erf" -> set(n, sd.math().erf(in(n, 0)));
            case "Elu" -> set(n, elu(in(n, 0), n.attrFloat("alpha", 1f)));
            case "Pow" -> set(n, sd.math().pow(in(n, 0), in(n, 1)));
            case "Max", "Min" -> {
                SDVariable acc = in(n, 0);
                for (int i = 1; i < n.inputs().size(); i++) {
                    acc = n.is("Max") ? sd.math().max(acc, in(n, i)) : sd.math().min(acc, in(n, i));
                }
                set(n, acc);
            }
            // a comparison's mask carries no gradient: 1.0 where true, 0.0 where false, as floats
            case "Equal" -> set(n, mask(in(n, 0).eq(in(n, 1))));
            case "Greater" -> set(n, mask(in(n, 0).gt(in(n, 1))));
            case "Less" -> set(n, mask(in(n, 0).lt(in(n, 1))));
            case "GreaterOrEqual" -> set(n, mask(in(n, 0).gte(in(n, 1))));
            case "LessOrEqual" -> set(n, mask(in(n, 0).lte(in(n, 1))));
            case "Where" -> { // c·x + (1 − c)·y: the gradient reaches the branch each element takes
                SDVariable c = in(n, 0);
                set(n, c.mul(in(n, 1)).add(c.rsub(1.0).mul(in(n, 2))));
            }
            case "ReduceMean", "ReduceMax" -> {
                int r = shape(n.input(0)).length;
                long[] axes = n.inputs().size() > 1 && !n.input(1).isEmpty() ? ints(n, 1) : n.attrInts("axes", null);
                int[] a = new int[axes == null ? r : axes.length];
                for (int i = 0; i < a.length; i++) {
                    a[i] = axes == null ? i : (int) (axes[i] < 0 ? axes[i] + r : axes[i]);
                }
                boolean keep = n.attrInt("keepdims", 1) != 0;
                set(n, n.is("ReduceMax") ? sd.max(in(n, 0), keep, a) : sd.mean(in(n, 0), keep, a));
            }
            case "MaxPool", "AveragePool" -> pool(n);
            case "Flatten", "Reshape" -> {
                long[] y = shape(n.output(0)).clone();
                y[0] = -1;
                set(n, sd.reshape(in(n, 0), y));
            }
            case "Transpose" -> {
                long[] perm = n.attrInts("perm", null);
                int[] p = new int[perm.length];
                for (int i = 0; i < p.length; i++) {
                    p[i] = (int) perm[i];
                }
                set(n, sd.permute(in(n, 0), p));
            }
            case "MatMul" -> set(n, sd.mmul(in(n, 0), in(n, 1)));
            case "Gemm" -> {
                SDVariable y = sd.mmul(in(n, 0), in(n, 1), n.attrInt("transA", 0) != 0, n.attrInt("transB", 0) != 0, false);
                float alpha = n.attrFloat("alpha", 1f);
                if (alpha != 1f) {
                    y = y.mul(alpha);
                }
                if (n.inputs().size() > 2 && !n.input(2).isEmpty()) {
                    float beta = n.attrFloat("beta", 1f);
                    y = y.add(beta == 1f ? in(n, 2) : in(n, 2).mul(beta));
                }
                set(n, y);
            }
            case "Concat" -> {
                SDVariable[] parts = new SDVariable[n.inputs().size()];
                for (int i = 0; i < parts.length; i++) {
                    parts[i] = in(n, i);
                }
                long axis = n.attrInt("axis", 0);
                set(n, sd.concat((int) (axis < 0 ? axis + shape(n.input(0)).length : axis), parts));
            }
            case "Pad" -> {
                long[] pads = ints(n, 1);
                int r = pads.length / 2;
                int[][] p = new int[r][2];
                for (int i = 0; i < r; i++) {
                    p[i][0] = (int) pads[i];
                    p[i][1] = (int) pads[i + r];
                }
                double value = n.inputs().size() > 2 && !n.input(2).isEmpty()
                        ? model.graph().initializer(n.input(2)).floats()[0] : 0;
                String mode = n.attrString("mode", "constant");
                if (!mode.equals("constant")) {
                    throw new AcdcException("Pad mode '" + mode + "' is not supported for training");
                }
                set(n, sd.nn().pad(in(n, 0), sd.constant(Nd4j.createFromArray(p)), PadMode.CONSTANT, value));
            }
            case "Slice" -> slice(n);
            case "Split" -> {
                long[] x = shape(n.input(0));
                int axis = (int) n.attrInt("axis", 0);
                axis = axis < 0 ? axis + x.length : axis;
                long from = 0;
                for (int i = 0; i < n.outputs().size(); i++) {
                    long size = shape(n.output(i))[axis];
                    values.put(n.output(i), channels(in(n, 0), axis, x.length, from, from + size));
                    from += size;
                }
            }
            case "Resize" -> resize(n);
            case "Identity", "Dropout" -> set(n, in(n, 0)); // inference Dropout
            case "Cast" -> {
                ShapeInference.Facts fi = facts.get(n.input(0));
                if (!values.containsKey(n.input(0)) && fi != null && fi.fullyKnownInts()) {
                    // shape arithmetic turned float: its values were resolved by inference
                    set(n, sd.constant(Nd4j.create(java.util.Arrays.stream(fi.ints()).asDoubleStream().toArray(),
                            fi.shape(), 'c').castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)));
                } else {
                    set(n, in(n, 0)); // float to float
                }
            }
            case "Squeeze", "Unsqueeze" -> set(n, reshapeToOutput(n));
            case "ConstantOfShape" -> {
                Attribute v = n.attribute("value");
                double value = v == null ? 0 : v.asTensor().floats()[0];
                set(n, sd.constant(Nd4j.valueArrayOf(ints(n, 0), value).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)));
            }
            case "Gather" -> {
                long[] idx = ints(n, 1);
                int[] ix = new int[idx.length];
                long[] x = shape(n.input(0));
                int axis = (int) n.attrInt("axis", 0);
                axis = axis < 0 ? axis + x.length : axis;
                for (int i = 0; i < ix.length; i++) {
                    ix[i] = (int) (idx[i] < 0 ? idx[i] + x[axis] : idx[i]);
                }
                SDVariable g = sd.gather(in(n, 0), ix, axis);
                set(n, shape(n.input(1)).length == 1 ? g : reshapeTo(n, g));
            }
            case "Tile" -> {
                long[] reps = ints(n, 1);
                set(n, sd.tile(in(n, 0), sd.constant(Nd4j.createFromArray(java.util.Arrays.stream(reps)
                        .mapToInt(r -> (int) r).toArray()))));
            }
            case "BatchNormalization" -> batchNorm(n);
            default -> throw new AcdcException("operator " + n.opType() + " is not supported for fine-tuning");
        }
    }

    /** A boolean mask as floats (1 where true), so Where and a Cast read it as numbers. */
    private static SDVariable mask(SDVariable b) {
        return b.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    /** ELU: x where x > 0, alpha·(exp(x) − 1) elsewhere. */
    private SDVariable elu(SDVariable x, float alpha) {
        SDVariable pos = mask(x.gt(0.0));
        return pos.mul(x).add(pos.rsub(1.0).mul(sd.math().exp(sd.math().min(x, sd.constant(0f))).sub(1.0).mul(alpha)));
    }

    private void conv(Node n) {
        long[] w = shape(n.input(1));
        long group = n.attrInt("group", 1);
        long[] x = shape(n.input(0));
        long[] strides = n.attrInts("strides", new long[] {1, 1});
        long[] dil = n.attrInts("dilations", new long[] {1, 1});
        long[] pads = n.attrInts("pads", new long[] {0, 0, 0, 0});
        String autoPad = n.attrString("auto_pad", "NOTSET");
        if (w.length != 4) {
            throw new AcdcException("only 2-D convolutions can be fine-tuned");
        }
        SDVariable weight = in(n, 1);
        if (!permuted.getOrDefault(n.input(1), false)) {
            weight = sd.permute(weight, 2, 3, 1, 0); // computed kernel [O,I,kh,kw] → [kh,kw,I,O]
        }
        SDVariable bias = n.inputs().size() > 2 && !n.input(2).isEmpty() ? in(n, 2) : null;
        set(n, conv2d(in(n, 0), weight, w, x, group, strides, dil, pads, autoPad, bias));
    }

    /**
     * ConvTranspose as the convolution it is the transpose of: the input with {@code stride − 1} zeros
     * inserted between its pixels, padded by {@code d·(k−1) − pad} on each side ({@code output_padding} more
     * at the end; a negative amount crops), convolved at stride 1 with the kernel flipped in space and, per
     * group, its [I, O/group] axes swapped into a Conv's [O, I/group]. The kernel may be computed (an ACDC
     * chain): every step is differentiable in it.
     */
    private void convTranspose(Node n) {
        long[] w = shape(n.input(1));
        long[] x = shape(n.input(0));
        if (w.length != 4) {
            throw new AcdcException("only 2-D transposed convolutions can be fine-tuned");
        }
        long group = n.attrInt("group", 1);
        dev.acdc.ir.ConvTransposeGeometry geo = dev.acdc.ir.ConvTransposeGeometry.of(n, new long[] {x[2], x[3]},
                new long[] {w[2], w[3]});
        long[] s = geo.strides();
        long[] d = geo.dilations();
        SDVariable input = in(n, 0);
        long[] size = {x[2], x[3]};
        if (s[0] > 1 || s[1] > 1) {
            SDVariable r = sd.reshape(input, -1, x[1], x[2], 1, x[3], 1);
            int[][] p = {{0, 0}, {0, 0}, {0, 0}, {0, (int) s[0] - 1}, {0, 0}, {0, (int) s[1] - 1}};
            r = sd.nn().pad(r, sd.constant(Nd4j.createFromArray(p)), PadMode.CONSTANT, 0);
            size = new long[] {x[2] * s[0], x[3] * s[1]};
            input = sd.reshape(r, -1, x[1], size[0], size[1]);
        }
        for (int i = 0; i < 2; i++) {
            long before = d[i] * (w[2 + i] - 1) - geo.padBegin()[i];
            long after = d[i] * (w[2 + i] - 1) - geo.padEnd()[i] + geo.outputPadding()[i] - (s[i] - 1);
            int axis = 2 + i;
            if (before < 0 || after < 0) {
                input = channels(input, axis, 4, Math.max(0, -before), size[i] - Math.max(0, -after));
                size[i] -= Math.max(0, -before) + Math.max(0, -after);
            }
            if (before > 0 || after > 0) {
                int[][] p = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
                p[axis] = new int[] {(int) Math.max(0, before), (int) Math.max(0, after)};
                input = sd.nn().pad(input, sd.constant(Nd4j.createFromArray(p)), PadMode.CONSTANT, 0);
                size[i] += Math.max(0, before) + Math.max(0, after);
            }
        }
        long inPer = w[0] / group;
        long outPer = w[1];
        SDVariable k = sd.reverse(in(n, 1), 2, 3);
        k = sd.reshape(k, group, inPer, outPer, w[2], w[3]);
        k = sd.permute(k, 0, 2, 1, 3, 4);
        k = sd.reshape(k, group * outPer, inPer, w[2], w[3]);
        SDVariable hwio = sd.permute(k, 2, 3, 1, 0);
        long[] convW = {group * outPer, inPer, w[2], w[3]};
        long[] convX = {x[0], x[1], size[0], size[1]};
        SDVariable bias = n.inputs().size() > 2 && !n.input(2).isEmpty() ? in(n, 2) : null;
        set(n, conv2d(input, hwio, convW, convX, group, new long[] {1, 1}, d, new long[] {0, 0, 0, 0}, "NOTSET", bias));
    }

    /** A 2-D convolution of {@code input} by {@code weight} in ND4J's [kh, kw, I/group, O] layout ({@code w}: its [O, I/group, kh, kw]). */
    private SDVariable conv2d(SDVariable input, SDVariable weight, long[] w, long[] x, long group, long[] strides,
                              long[] dil, long[] pads, String autoPad, SDVariable bias) {
        if (dil[0] > 1 || dil[1] > 1) {
            // ND4J's oneDNN kernel refuses dilated convolutions ("could not create a descriptor"): dilate the
            // kernel instead, zeros between its taps, and convolve undilated (the same sums, more MACs)
            long kh = w[2];
            long kw = w[3];
            SDVariable r = sd.reshape(weight, kh, 1, kw, 1, w[1], w[0]);
            int[][] p = {{0, 0}, {0, (int) dil[0] - 1}, {0, 0}, {0, (int) dil[1] - 1}, {0, 0}, {0, 0}};
            r = sd.nn().pad(r, sd.constant(Nd4j.createFromArray(p)), PadMode.CONSTANT, 0);
            r = sd.reshape(r, kh * dil[0], kw * dil[1], w[1], w[0]);
            long eh = (kh - 1) * dil[0] + 1;
            long ew = (kw - 1) * dil[1] + 1;
            weight = channels(channels(r, 0, 4, 0, eh), 1, 4, 0, ew);
            w = new long[] {w[0], w[1], eh, ew};
            dil = new long[] {1, 1};
        }
        PaddingMode mode = PaddingMode.VALID;
        long ph = 0;
        long pw = 0;
        if (autoPad.startsWith("SAME")) {
            mode = PaddingMode.SAME;
        } else if (pads[0] == pads[2] && pads[1] == pads[3]) {
            ph = pads[0];
            pw = pads[1];
        } else {
            int[][] p = {{0, 0}, {0, 0}, {(int) pads[0], (int) pads[2]}, {(int) pads[1], (int) pads[3]}};
            input = sd.nn().pad(input, sd.constant(Nd4j.createFromArray(p)), PadMode.CONSTANT, 0);
        }
        Conv2DConfig cfg = Conv2DConfig.builder().kH(w[2]).kW(w[3]).sH(strides[0]).sW(strides[1]).pH(ph).pW(pw)
                .dH(dil[0]).dW(dil[1]).paddingMode(mode).dataFormat("NCHW").build();
        SDVariable y;
        if (group == 1) {
            y = bias == null ? sd.cnn().conv2d(input, weight, cfg) : sd.cnn().conv2d(input, weight, bias, cfg);
        } else if (w[1] == 1 && x[1] == group) {
            // depthwise: ND4J wants [kh, kw, iC, multiplier]
            SDVariable dw = sd.reshape(weight, w[2], w[3], group, w[0] / group);
            y = bias == null ? sd.cnn().depthWiseConv2d(input, dw, cfg) : sd.cnn().depthWiseConv2d(input, dw, bias, cfg);
        } else {
            // grouped: each group's channels through its own slice of the kernel, the outputs concatenated
            long inPer = x[1] / group;
            long outPer = w[0] / group;
            SDVariable[] parts = new SDVariable[(int) group];
            for (int k = 0; k < group; k++) {
                SDVariable xk = channels(input, 1, 4, k * inPer, (k + 1) * inPer);
                SDVariable wk = channels(weight, 3, 4, k * outPer, (k + 1) * outPer);
                SDVariable bk = bias == null ? null : channels(bias, 0, 1, k * outPer, (k + 1) * outPer);
                parts[k] = bk == null ? sd.cnn().conv2d(xk, wk, cfg) : sd.cnn().conv2d(xk, wk, bk, cfg);
            }
            y = sd.concat(1, parts);
        }
        return y;
    }

    private void batchNorm(Node n) {
        long[] x = shape(n.input(0));
        if (x.length != 4 || n.outputs().size() > 1 && !n.output(1).isEmpty()) {
            throw new AcdcException("BatchNormalization is supported for fine-tuning on 4-D inputs with one output");
        }
        double eps = n.attrFloat("epsilon", 1e-5f);
        long c = x[1];
        SDVariable input = in(n, 0);
        if (trainingBn) {
            // ND4J's fused batchnorm and its backward pass ({@link FusedBatchNorm}); composing the same
            // from mean, square and broadcast ops ran a step 3.4x slower on the 2-core CPU
            SDVariable[] out = FusedBatchNorm.training(sd, input, in(n, 1), in(n, 2), eps);
            set(n, out[0]);
            batchStats.add(new BatchStats(n.input(3), n.input(4), out[1].name(), out[2].name(), x[2] * x[3]));
        } else {
            SDVariable gamma = sd.reshape(in(n, 1), 1, c, 1, 1);
            SDVariable mean = sd.reshape(in(n, 3), 1, c, 1, 1);
            SDVariable var = sd.reshape(in(n, 4), 1, c, 1, 1);
            SDVariable scale = gamma.mul(sd.math().rsqrt(var.add(eps)));
            set(n, input.mul(scale).add(sd.reshape(in(n, 2), 1, c, 1, 1).sub(mean.mul(scale))));
        }
    }

    /** {@code v}'s indices [from, to) along {@code axis} of its {@code rank}. */
    private SDVariable channels(SDVariable v, int axis, int rank, long from, long to) {
        long[] b = new long[rank];
        long[] e = new long[rank];
        long[] st = new long[rank];
        java.util.Arrays.fill(st, 1);
        b[axis] = from;
        e[axis] = to;
        int mask = ((1 << rank) - 1) & ~(1 << axis); // every other axis whole
        return sd.stridedSlice(v, b, e, st, mask, mask, 0, 0, 0);
    }

    private void pool(Node n) {
        long[] k = n.attrInts("kernel_shape", null);
        long[] s = n.attrInts("strides", new long[] {1, 1});
        long[] pads = n.attrInts("pads", new long[] {0, 0, 0, 0});
        boolean max = n.is("MaxPool");
        if (max && (pads[0] != pads[2] || pads[1] != pads[3] || n.attrInt("ceil_mode", 0) != 0)) {
            // pad explicitly with -inf (never the maximum) to the extent the output's size needs, then pool VALID
            long[] x = shape(n.input(0));
            long[] y = shape(n.output(0));
            int[][] p = {{0, 0}, {0, 0}, {(int) pads[0], 0}, {(int) pads[1], 0}};
            for (int i = 0; i < 2; i++) {
                long need = (y[2 + i] - 1) * s[i] + k[i] - x[2 + i] - pads[i];
                p[2 + i][1] = (int) Math.max(0, need);
            }
            SDVariable padded = sd.nn().pad(in(n, 0), sd.constant(Nd4j.createFromArray(p)), PadMode.CONSTANT,
                    -Float.MAX_VALUE);
            Pooling2DConfig cfg = Pooling2DConfig.builder().kH(k[0]).kW(k[1]).sH(s[0]).sW(s[1]).pH(0).pW(0)
                    .type(Pooling2D.Pooling2DType.MAX).isNHWC(false).build();
            set(n, sd.cnn().maxPooling2d(padded, cfg));
            return;
        }
        if (pads[0] != pads[2] || pads[1] != pads[3] || n.attrInt("ceil_mode", 0) != 0) {
            throw new AcdcException(n.opType() + " with asymmetric pads or ceil_mode is not supported for fine-tuning");
        }
        Pooling2DConfig cfg = Pooling2DConfig.builder().kH(k[0]).kW(k[1]).sH(s[0]).sW(s[1]).pH(pads[0]).pW(pads[1])
                .type(max ? Pooling2D.Pooling2DType.MAX : Pooling2D.Pooling2DType.AVG)
                .divisor(n.attrInt("count_include_pad", 0) != 0 ? Pooling2D.Divisor.INCLUDE_PADDING
                        : Pooling2D.Divisor.EXCLUDE_PADDING)
                .isNHWC(false).build();
        set(n, max ? sd.cnn().maxPooling2d(in(n, 0), cfg) : sd.cnn().avgPooling2d(in(n, 0), cfg));
    }

    /**
     * Resize of a 4-D input's height and width, nearest or linear, as two products with constant
     * interpolation matrices ({@link ResizeMatrices}): {@code y = A_h · x · A_wᵀ} per image and channel.
     */
    private void resize(Node n) {
        long[] x = shape(n.input(0));
        long[] y = shape(n.output(0));
        if (x.length != 4 || (x[0] > 0 && y[0] > 0 && x[0] != y[0]) || x[1] != y[1]) {
            throw new AcdcException("Resize '" + n.label() + "' is supported for fine-tuning on the height and width of "
                    + "4-D inputs");
        }
        boolean bySizes = n.inputs().size() > 3 && !n.input(3).isEmpty();
        var scales = !bySizes && n.inputs().size() > 2 && !n.input(2).isEmpty()
                ? model.graph().initializer(n.input(2)) : null;
        float[] sc = scales == null ? null : scales.floats();
        float[][] ah = ResizeMatrices.of(n, x[2], y[2], sc == null ? Double.NaN : sc[2]);
        float[][] aw = ResizeMatrices.of(n, x[3], y[3], sc == null ? Double.NaN : sc[3]);
        SDVariable awT = sd.constant(Nd4j.create(aw).transpose().dup());
        SDVariable ahT = sd.constant(Nd4j.create(ah).transpose().dup());
        SDVariable v = sd.reshape(in(n, 0), -1, x[3]);                       // [N·C·H, W]
        v = sd.reshape(sd.mmul(v, awT), -1, x[1], x[2], y[3]);               // [N, C, H, W']
        v = sd.reshape(sd.permute(v, 0, 1, 3, 2), -1, x[2]);                 // [N·C·W', H]
        v = sd.reshape(sd.mmul(v, ahT), -1, x[1], y[3], y[2]);               // [N, C, W', H']
        set(n, sd.permute(v, 0, 1, 3, 2));
    }

    private SDVariable reshapeToOutput(Node n) {
        return reshapeTo(n, in(n, 0));
    }

    /** {@code v} reshaped to {@code n}'s inferred output shape (at most one unknown dimension: the batch). */
    private SDVariable reshapeTo(Node n, SDVariable v) {
        long[] y = shape(n.output(0)).clone();
        int unknown = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] < 0) {
                y[i] = -1;
                unknown++;
            }
        }
        if (unknown > 1) {
            throw new AcdcException(n.opType() + " '" + n.label() + "' with more than one unknown output dimension is "
                    + "not supported for fine-tuning");
        }
        return sd.reshape(v, y);
    }

    private void slice(Node n) {
        long[] x = shape(n.input(0));
        long[] starts = ints(n, 1);
        long[] ends = ints(n, 2);
        long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? ints(n, 3) : null;
        long[] steps = n.inputs().size() > 4 && !n.input(4).isEmpty() ? ints(n, 4) : null;
        int r = x.length;
        long[] b = new long[r];
        long[] e = new long[r];
        long[] st = new long[r];
        int beginMask = 0;
        int endMask = 0;
        for (int i = 0; i < r; i++) {
            st[i] = 1;
            beginMask |= 1 << i;
            endMask |= 1 << i;
        }
        for (int j = 0; j < starts.length; j++) {
            int ax = (int) (axes == null ? j : axes[j] < 0 ? axes[j] + r : axes[j]);
            long step = steps == null ? 1 : steps[j];
            if (step <= 0 || x[ax] < 0) {
                throw new AcdcException("Slice with negative steps or on a symbolic axis is not supported for fine-tuning");
            }
            long[] range = dev.acdc.ir.ops.TensorRules.sliceRange(starts[j], ends[j], step, x[ax]);
            b[ax] = range[0];
            e[ax] = range[1];
            st[ax] = step;
            beginMask &= ~(1 << ax);
            endMask &= ~(1 << ax);
        }
        set(n, sd.stridedSlice(in(n, 0), b, e, st, beginMask, endMask, 0, 0, 0));
    }
}
