package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Folds a per-channel {@code Mul} (and the {@code Add} after it) that follows a Conv into the conv: the
 * {@code Conv → Mul(s) → Add(t)} a fine-tuned ACDC model keeps for its folded BN (its kernel is computed,
 * so the scale cannot be multiplied into a stored weight) becomes {@code Conv(x, W·s, b·s + t)}. A
 * stored weight is scaled in place; a computed kernel gets a constant {@code Mul} at the end of its
 * chain, which ONNX Runtime folds at load. Requires s and t constant, of one value per output channel
 * ([O,1,1] or [1,O,1,1]), the conv's output read by the Mul alone and the Mul's by the Add alone.
 * Ensures no such pattern is left. The function is unchanged up to float rounding.
 */
public final class FoldChannelAffine implements Pass {
    @Override
    public String name() {
        return "fold-channel-affine";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = 0;
        for (Node conv : Rewrites.snapshot(g)) {
            if (!conv.is("Conv") || !g.nodes().contains(conv)) {
                continue;
            }
            Map<String, List<Node>> consumers = g.consumerIndex();
            Node mul = only(g, consumers, conv.output(0), "Mul");
            if (mul == null) {
                continue;
            }
            long channels = channelsOf(g, conv);
            float[] s = perChannel(g, mul, conv.output(0), channels);
            if (s == null) {
                continue;
            }
            Node add = only(g, consumers, mul.output(0), "Add");
            float[] t = add == null ? null : perChannel(g, add, mul.output(0), channels);
            if (t == null) {
                add = null;
            }
            String w = conv.input(1);
            String base = conv.label() + "/folded_affine";
            if (g.isInitializer(w)) {
                Tensor wt = g.initializer(w);
                float[] v = wt.floats().clone();
                int per = (int) (v.length / channels);
                for (int i = 0; i < v.length; i++) {
                    v[i] *= s[i / per];
                }
                String name = fresh(g, base + "_weight");
                g.putInitializer(Tensor.ofFloats(name, wt.shape(), v));
                conv.setInput(1, name);
            } else {
                String sName = fresh(g, base + "_scale");
                g.putInitializer(Tensor.ofFloats(sName, new long[] {channels, 1, 1, 1}, s.clone()));
                conv.setInput(1, new dev.acdc.ir.GraphBuilder(g).insertingAt(g.nodes().indexOf(conv))
                        .opNamed("Mul", base + "/Mul", base + "_kernel", List.of(w, sName)));
            }
            float[] b = new float[(int) channels];
            if (conv.inputs().size() > 2 && !conv.input(2).isEmpty()) {
                if (!g.isInitializer(conv.input(2))) {
                    continue;
                }
                float[] old = g.initializer(conv.input(2)).floats();
                for (int o = 0; o < channels; o++) {
                    b[o] = old[o] * s[o];
                }
            }
            for (int o = 0; t != null && o < channels; o++) {
                b[o] += t[o];
            }
            String bName = fresh(g, base + "_bias");
            g.putInitializer(Tensor.ofFloats(bName, new long[] {channels}, b));
            conv.setOrAddInput(2, bName);
            Node last = add != null ? add : mul;
            conv.setOutput(0, last.output(0));
            g.nodes().remove(mul);
            if (add != null) {
                g.nodes().remove(add);
            }
            changed++;
        }
        g.removeUnusedInitializers();
        return changed;
    }

    private static Node only(Graph g, Map<String, List<Node>> consumers, String value, String op) {
        List<Node> cs = consumers.getOrDefault(value, List.of());
        if (cs.size() != 1 || !cs.get(0).is(op) || g.isGraphOutput(value)) {
            return null;
        }
        return cs.get(0);
    }

    private static long channelsOf(Graph g, Node conv) {
        Node p = g.producer(conv.input(1));
        if (g.isInitializer(conv.input(1))) {
            return g.initializer(conv.input(1)).dim(0);
        }
        if (p != null && p.is("Reshape") && g.isInitializer(p.input(1))) {
            return g.initializer(p.input(1)).longs()[0];
        }
        return -1;
    }

    /** The per-channel constant operand of {@code n} (the other input being {@code from}), or null. */
    private static float[] perChannel(Graph g, Node n, String from, long channels) {
        if (channels <= 0 || n.inputs().size() != 2) {
            return null;
        }
        String other = n.input(0).equals(from) ? n.input(1) : n.input(0);
        if (!g.isInitializer(other) || !g.initializer(other).isFloat()) {
            return null;
        }
        long[] shape = g.initializer(other).shape();
        boolean ok = (shape.length == 3 && shape[0] == channels && shape[1] == 1 && shape[2] == 1)
                || (shape.length == 4 && shape[0] == 1 && shape[1] == channels && shape[2] == 1 && shape[3] == 1);
        return ok ? g.initializer(other).floats() : null;
    }

    private static String fresh(Graph g, String base) {
        return new dev.acdc.ir.GraphBuilder(g).fresh(base);
    }
}
