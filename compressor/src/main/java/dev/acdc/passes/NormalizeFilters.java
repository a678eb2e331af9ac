package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.List;

/**
 * Gives every output filter of every Conv with constant weights the same L2 norm {@code r}, and moves
 * the filter's old norm into a per-channel {@code Mul} right after the conv: {@code W_o ← (r/‖W_o‖)·W_o},
 * {@code b_o ← (r/‖W_o‖)·b_o}, then {@code Mul(c)} with {@code c_o = ‖W_o‖/r}. The model's function is
 * unchanged (to rounding).
 *
 * <p>Why: a pretrained network's BatchNormalization folded into its convs leaves each output filter
 * scaled by its own γ/σ (in the CIFAR ResNet-20 that keeps its BN, γ/σ spans 0.04–24 across filters,
 * while the raw filters' norms sit at 0.3–0.9). Before a fine-tune with training-mode BN, which makes
 * the network invariant to a filter's scale, that scale decides two things it should not: how much a
 * filter weighs in the decomposition's least-squares fit, and its effective learning rate (∝ 1/‖W_o‖²).
 * {@code dev.acdc.train.TrainingBatchNorm} (module acdc-train) absorbs the {@code Mul} into the BN it puts after the conv.
 *
 * <p>Requires a well-formed graph with BN folded (run after {@link PassManager#standard()}); ensures the
 * same. A filter of norm 0, a conv whose output is a graph output, and a conv whose weights or bias are
 * shared with another node are left as they are.
 */
public final class NormalizeFilters implements Pass {
    /** The suffix of the per-channel scale initializers this pass adds (after the conv's name). */
    public static final String SCALE = "/filter_scale";

    private final double norm;

    public NormalizeFilters(double norm) {
        if (!(norm > 0 && norm < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("filter norm must be positive and finite, got " + norm);
        }
        this.norm = norm;
    }

    @Override
    public String name() {
        return "normalize-filters";
    }

    @Override
    public List<Condition> requires() {
        return List.of(Condition.WELL_FORMED, Condition.NO_FOLDABLE_BATCHNORM);
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, Condition.NO_FOLDABLE_BATCHNORM);
    }

    /** Whether {@code mul} is a scale this pass put after a conv (input 1 names it). */
    public static boolean isFilterScale(Graph g, Node mul) {
        return mul.is("Mul") && mul.inputs().size() == 2 && mul.input(1).endsWith(SCALE)
                && g.initializer(mul.input(1)) != null;
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = 0;
        for (Node conv : Rewrites.snapshot(g)) {
            if (!conv.is("Conv") || conv.inputs().size() < 2 || g.isGraphOutput(conv.output(0))) {
                continue;
            }
            Tensor w = g.initializer(conv.input(1));
            if (w == null || !w.isDecoded() || w.rank() < 3 || g.consumers(w.name()).size() != 1) {
                continue;
            }
            boolean hasBias = conv.inputs().size() > 2 && !conv.input(2).isEmpty();
            Tensor b = hasBias ? g.initializer(conv.input(2)) : null;
            if (hasBias && (b == null || !b.isDecoded() || g.consumers(b.name()).size() != 1)) {
                continue;
            }
            List<Node> uses = g.consumers(conv.output(0));
            if (uses.size() == 1 && isFilterScale(g, uses.get(0))) {
                continue; // already done
            }
            float[] wv = w.floats();
            int o = (int) w.shape()[0];
            int per = wv.length / o;
            float[] c = new float[o];
            for (int k = 0; k < o; k++) {
                double sq = 0;
                for (int i = 0; i < per; i++) {
                    sq += (double) wv[k * per + i] * wv[k * per + i];
                }
                double n = Math.sqrt(sq);
                c[k] = n > 0 && Double.isFinite(n) ? (float) (n / norm) : 1f;
                for (int i = 0; i < per; i++) {
                    wv[k * per + i] /= c[k];
                }
            }
            g.putInitializer(Tensor.ofFloats(w.name(), w.shape(), wv));
            if (b != null) {
                float[] bv = b.floats();
                for (int k = 0; k < o; k++) {
                    bv[k] /= c[k];
                }
                g.putInitializer(Tensor.ofFloats(b.name(), b.shape(), bv));
            }
            String base = conv.name().isEmpty() ? conv.output(0) : conv.name();
            long[] shape = new long[w.rank() - 1]; // [O, 1, 1]: broadcasts over the spatial axes
            java.util.Arrays.fill(shape, 1);
            shape[0] = o;
            GraphBuilder gb = new GraphBuilder(g).insertingAt(g.nodes().indexOf(conv) + 1);
            String scale = gb.initializer(base + SCALE, shape, c);
            String x = conv.output(0);
            String y = gb.op("Mul", base + "/filter_mul", x, scale);
            g.replaceUses(x, y);
            g.producer(y).setInput(0, x);
            changed++;
        }
        return changed;
    }
}
