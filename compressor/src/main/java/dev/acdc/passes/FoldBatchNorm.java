package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.List;

/**
 * Folds an inference-mode BatchNormalization into the Conv before it:
 * {@code s = γ/√(σ²+ε)}, {@code W'[o] = s[o]·W[o]}, {@code b'[o] = s[o]·(b[o] − μ[o]) + β[o]}.
 * Applies when the Conv's output is read only by the BN, and all weights are initializers. The
 * folded weights get new names if the old ones are shared. Ensures no foldable BN is left.
 */
public final class FoldBatchNorm implements Pass {
    @Override
    public String name() {
        return "fold-batchnorm";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, Condition.NO_FOLDABLE_BATCHNORM);
    }

    /** The Conv this BN can fold into, or null. */
    static Node foldableConv(Graph g, Node bn) {
        if (!bn.is("BatchNormalization") || bn.attrInt("training_mode", 0) != 0) {
            return null;
        }
        for (int i = 1; i < bn.outputs().size(); i++) {
            if (!bn.output(i).isEmpty() && !g.consumers(bn.output(i)).isEmpty()) {
                return null;
            }
        }
        for (int i = 1; i <= 4; i++) {
            Tensor t = g.initializer(bn.input(i));
            if (t == null || !t.isDecoded()) {
                return null;
            }
        }
        Node conv = g.producer(bn.input(0));
        if (conv == null || !conv.is("Conv") || g.isGraphOutput(conv.output(0))
                || g.consumers(conv.output(0)).size() != 1) {
            return null;
        }
        Tensor w = g.initializer(conv.input(1));
        if (w == null || !w.isFloat()) {
            return null;
        }
        String b = conv.input(2);
        if (!b.isEmpty() && (g.initializer(b) == null || !g.initializer(b).isDecoded())) {
            return null;
        }
        return conv;
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = 0;
        for (Node bn : Rewrites.snapshot(g)) {
            Node conv = foldableConv(g, bn);
            if (conv == null) {
                continue;
            }
            fold(g, conv, bn);
            changed++;
        }
        g.removeUnusedInitializers();
        return changed;
    }

    private static void fold(Graph g, Node conv, Node bn) {
        Tensor w = g.initializer(conv.input(1));
        double[] gamma = g.initializer(bn.input(1)).doubles();
        double[] beta = g.initializer(bn.input(2)).doubles();
        double[] mean = g.initializer(bn.input(3)).doubles();
        double[] var = g.initializer(bn.input(4)).doubles();
        double eps = bn.attrFloat("epsilon", 1e-5f);
        int out = (int) w.dim(0);
        float[] wv = w.floats();
        int per = wv.length / out;
        float[] nw = new float[wv.length];
        float[] nb = new float[out];
        double[] oldB = conv.input(2).isEmpty() ? new double[out] : g.initializer(conv.input(2)).doubles();
        for (int o = 0; o < out; o++) {
            double s = gamma[o] / Math.sqrt(var[o] + eps);
            for (int k = 0; k < per; k++) {
                nw[o * per + k] = (float) (wv[o * per + k] * s);
            }
            nb[o] = (float) ((oldB[o] - mean[o]) * s + beta[o]);
        }
        GraphBuilder names = new GraphBuilder(g);
        String wName = g.consumers(conv.input(1)).size() == 1 ? conv.input(1) : names.fresh(conv.input(1) + "_bn");
        String bName = !conv.input(2).isEmpty() && g.consumers(conv.input(2)).size() == 1 ? conv.input(2)
                : names.fresh((conv.name().isEmpty() ? conv.output(0) : conv.name()) + "_bias");
        g.putInitializer(Tensor.ofFloats(wName, w.shape(), nw));
        g.putInitializer(Tensor.ofFloats(bName, new long[] {out}, nb));
        List<String> ins = List.of(conv.input(0), wName, bName);
        conv.setInputs(ins);
        conv.setOutput(0, bn.output(0));
        g.nodes().remove(bn);
    }
}
