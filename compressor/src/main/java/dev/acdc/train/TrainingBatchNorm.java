package dev.acdc.train;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Puts BatchNormalization back after every convolution for fine-tuning. The pretrained model's BN was
 * folded into its convolutions, and a low-rank network trains markedly better with batch statistics
 * normalising each layer (as the network was trained originally). Each new BN starts as the identity on
 * a calibration batch: γ = √(σ²+ε) and β = μ, with running statistics μ and σ² of that conv's output on
 * the batch; so in inference mode the model computes exactly what it computed before.
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

    /**
     * Inserts a BN after each conv output named in {@code stats} (per-channel mean and variance of that
     * output on the calibration batch); returns the BN nodes' names.
     */
    public static List<String> insert(Model m, Map<String, float[][]> stats) {
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
            float[] gamma = new float[c];
            for (int i = 0; i < c; i++) {
                gamma[i] = (float) Math.sqrt(var[i] + EPSILON);
            }
            String base = (conv.name().isEmpty() ? conv.output(0) : conv.name()) + "/bn";
            long[] shape = {c};
            String sc = b.initializer(base + "/scale", shape, gamma);
            String bi = b.initializer(base + "/bias", shape, mean.clone());
            String mu = b.initializer(base + "/mean", shape, mean.clone());
            String va = b.initializer(base + "/var", shape, var.clone());
            String x = conv.output(0);
            String y = b.insertingAt(g.nodes().indexOf(conv) + 1)
                    .op("BatchNormalization", base, List.of(x, sc, bi, mu, va), Attribute.ofFloat("epsilon", EPSILON));
            Node bn = g.producer(y);
            g.replaceUses(x, y);
            bn.setInput(0, x);
            names.add(bn.name());
        }
        return names;
    }
}
