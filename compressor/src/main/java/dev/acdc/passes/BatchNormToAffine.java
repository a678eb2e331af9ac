package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.List;

/**
 * Rewrites an inference-mode BatchNormalization that cannot be folded (its Conv's kernel is computed
 * from shared ACDC coefficients) as a per-channel {@code Mul(s)} and {@code Add(t)} with
 * {@code s = γ/√(σ²+ε)}, {@code t = β − s·μ}; when the BN follows a Conv whose bias only it reads, the
 * bias is folded into {@code t} ({@code t += s·b}) and dropped. ONNX Runtime fuses both into the Conv
 * once the kernel is constant-folded. Requires BNs foldable into plain weights to be folded first;
 * ensures no foldable BN is left (and
 * rewrites every inference-mode BN with constant parameters).
 */
public final class BatchNormToAffine implements Pass {
    @Override
    public String name() {
        return "batchnorm-to-affine";
    }

    @Override
    public List<Condition> requires() {
        return List.of(Condition.WELL_FORMED, Condition.NO_FOLDABLE_BATCHNORM);
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, Condition.NO_FOLDABLE_BATCHNORM);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = 0;
        java.util.Map<String, dev.acdc.ir.ShapeInference.Facts> facts = dev.acdc.ir.ShapeInference.infer(m);
        for (Node bn : Rewrites.snapshot(g)) {
            if (!bn.is("BatchNormalization") || bn.attrInt("training_mode", 0) != 0 || bn.outputs().size() != 1) {
                continue;
            }
            Tensor[] p = new Tensor[4];
            boolean ok = true;
            for (int i = 0; i < 4; i++) {
                p[i] = g.initializer(bn.input(i + 1));
                ok &= p[i] != null && p[i].isDecoded() && p[i].rank() == 1;
            }
            dev.acdc.ir.ShapeInference.Facts x = facts.get(bn.input(0));
            if (!ok || x == null || x.shape() == null || x.shape().length < 2) {
                continue;
            }
            rewrite(g, bn, p, x.shape().length);
            changed++;
        }
        g.removeUnusedInitializers();
        return changed;
    }

    private static void rewrite(Graph g, Node bn, Tensor[] p, int rank) {
        double[] gamma = p[0].doubles();
        double[] beta = p[1].doubles();
        double[] mean = p[2].doubles();
        double[] var = p[3].doubles();
        double eps = bn.attrFloat("epsilon", 1e-5f);
        int c = gamma.length;
        float[] s = new float[c];
        float[] t = new float[c];
        Node conv = g.producer(bn.input(0));
        double[] bias = null;
        if (conv != null && conv.is("Conv") && conv.inputs().size() > 2 && !conv.input(2).isEmpty()
                && g.consumers(conv.output(0)).size() == 1 && !g.isGraphOutput(conv.output(0))
                && g.initializer(conv.input(2)) != null && g.consumers(conv.input(2)).size() == 1) {
            bias = g.initializer(conv.input(2)).doubles();
            conv.setInputs(List.of(conv.input(0), conv.input(1)));
        }
        for (int i = 0; i < c; i++) {
            double sc = gamma[i] / Math.sqrt(var[i] + eps);
            s[i] = (float) sc;
            t[i] = (float) (beta[i] - sc * mean[i] + (bias == null ? 0 : sc * bias[i]));
        }
        String base = bn.name().isEmpty() ? bn.output(0) : bn.name();
        GraphBuilder b = new GraphBuilder(g).insertingAt(g.nodes().indexOf(bn));
        long[] shape = new long[rank - 1]; // [C, 1, 1, ...]: broadcasts over the spatial axes
        java.util.Arrays.fill(shape, 1);
        shape[0] = c;
        String sName = b.initializer(base + "/channel_scale", shape, s);
        String tName = b.initializer(base + "/channel_shift", shape, t);
        String scaled = b.op("Mul", base + "/mul", bn.input(0), sName);
        Node add = g.producer(b.op("Add", base + "/add", scaled, tName));
        add.setOutput(0, bn.output(0));
        g.nodes().remove(bn);
    }
}
