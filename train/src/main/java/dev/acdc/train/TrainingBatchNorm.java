package dev.acdc.train;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.passes.NormalizeFilters;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Puts BatchNormalization back after every convolution for fine-tuning. The pretrained model's BN was
 * folded into its convolutions, and a low-rank network trains markedly better with batch statistics
 * normalising each layer (as the network was trained originally). Each new BN's running statistics are
 * the mean μ and variance σ² of that conv's output on a calibration batch. Its γ and β restore the
 * distribution the original network had there: γ = √(σ_t²+ε) and β = μ_t from the teacher's same conv
 * on the same batch, as a pretrained BN (γ, β) kept in training mode does after a decomposed conv.
 * Where the teacher's value is not known, the BN starts as the identity (γ = √(σ²+ε), β = μ), so in
 * inference mode the model computes exactly what it computed before.
 *
 * <p>After training, {@link dev.acdc.passes.FoldBatchNorm} folds these BNs back into convolutions with
 * plain weights and {@link dev.acdc.passes.BatchNormToAffine} turns the ones after computed (shared)
 * kernels into a per-channel scale and shift: the exported file has no BatchNormalization.
 */
public final class TrainingBatchNorm {
    public static final float EPSILON = 1e-5f;

    private TrainingBatchNorm() {
    }

    /** The convolutions that get a BN: every Conv, in graph order; their output value names. */
    public static List<String> convOutputs(Model m) {
        List<String> outs = new ArrayList<>();
        for (Node n : m.graph().nodes()) {
            if (n.is("Conv")) {
                outs.add(n.output(0));
            }
        }
        return outs;
    }

    /** As {@link #insert(Model, Map, Map)} with no teacher statistics: every BN starts as the identity. */
    public static List<String> insert(Model m, Map<String, float[][]> stats) {
        return insert(m, stats, Map.of());
    }

    /**
     * Inserts a BN after each conv output named in {@code stats} (per-channel mean and variance of that
     * output on the calibration batch); {@code target}: the same for the teacher's conv of that name, where
     * known (an entry of another width is ignored). Returns the BN nodes' names.
     */
    public static List<String> insert(Model m, Map<String, float[][]> stats, Map<String, float[][]> target) {
        Graph g = m.graph();
        GraphBuilder b = new GraphBuilder(g);
        List<String> names = new ArrayList<>();
        for (Node conv : List.copyOf(g.nodes())) {
            if (!conv.is("Conv") || !stats.containsKey(conv.output(0)) || g.isGraphOutput(conv.output(0))) {
                continue;
            }
            float[] mean = stats.get(conv.output(0))[0];
            float[] var = stats.get(conv.output(0))[1];
            int c = mean.length;
            float[][] t = target.get(conv.output(0));
            boolean restore = t != null && t[0].length == c && t[1].length == c;
            float[] tmean = restore ? t[0] : mean;
            float[] tvar = restore ? t[1] : var;
            // a filter scale (NormalizeFilters) after the conv is absorbed: the BN restores the scale
            List<Node> uses = g.consumers(conv.output(0));
            Node mul = uses.size() == 1 && NormalizeFilters.isFilterScale(g, uses.get(0)) ? uses.get(0) : null;
            float[] scale = mul == null || restore ? null : g.initializer(mul.input(1)).floats();
            if (scale != null && scale.length != c) {
                scale = null;
                mul = null;
            }
            float[] gamma = new float[c];
            float[] beta = new float[c];
            for (int i = 0; i < c; i++) {
                double k = scale == null ? 1 : scale[i];
                gamma[i] = (float) (k * Math.sqrt(tvar[i] + EPSILON));
                beta[i] = (float) (k * tmean[i]);
            }
            String base = (conv.name().isEmpty() ? conv.output(0) : conv.name()) + "/bn";
            long[] shape = {c};
            String sc = b.initializer(base + "/scale", shape, gamma);
            String bi = b.initializer(base + "/bias", shape, beta);
            String mu = b.initializer(base + "/mean", shape, mean.clone());
            String va = b.initializer(base + "/var", shape, var.clone());
            String x = conv.output(0);
            String y = b.insertingAt(g.nodes().indexOf(conv) + 1)
                    .op("BatchNormalization", base, List.of(x, sc, bi, mu, va), Attribute.ofFloat("epsilon", EPSILON));
            Node bn = g.producer(y);
            if (mul != null) {
                bn.setOutput(0, mul.output(0)); // the BN computes what conv → Mul computed
                g.nodes().remove(mul);
            } else {
                g.replaceUses(x, y);
                bn.setInput(0, x);
            }
            names.add(bn.name());
        }
        g.removeUnusedInitializers();
        return names;
    }

    /**
     * Sets the running mean and variance of the BN after each conv output named in {@code stats} (an
     * output without a BN after it is skipped).
     */
    public static void setRunningStatistics(Model m, Map<String, float[][]> stats) {
        Graph g = m.graph();
        for (Map.Entry<String, float[][]> e : stats.entrySet()) {
            for (Node bn : g.consumers(e.getKey())) {
                if (bn.is("BatchNormalization") && bn.input(0).equals(e.getKey())) {
                    long[] shape = {e.getValue()[0].length};
                    g.putInitializer(dev.acdc.ir.Tensor.ofFloats(bn.input(3), shape, e.getValue()[0].clone()));
                    g.putInitializer(dev.acdc.ir.Tensor.ofFloats(bn.input(4), shape, e.getValue()[1].clone()));
                }
            }
        }
    }
}
