package dev.acdc.passes;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.List;
import java.util.function.BiPredicate;

/**
 * Writes a fully connected layer — {@code Gemm(A [N, I], B, C)} with a stored float weight, alpha = beta = 1,
 * no transposed A — as the 1×1 convolution it is: {@code Reshape(A → [N, I, 1, 1])}, {@code Conv} with kernel
 * [O, I, 1, 1] and the Gemm's bias, {@code Flatten} back to [N, O] under the Gemm's output name. The conv keeps
 * the Gemm's node name. So a classifier head (37 % of MobileNetV2's weights) is factored as a pointwise conv
 * by the same plan, fit, output fit, export and fine-tune as every other 1×1 conv.
 *
 * <p>Only the Gemms {@code wanted(in, out)} accepts are rewritten (the caller asks for those that the
 * decomposition would factor, so a small head stays one Gemm). Requires a well-formed graph; ensures it is still
 * one, computing the same values.
 */
public final class GemmAsPointwiseConv implements Pass {
    private final BiPredicate<Long, Long> wanted;

    public GemmAsPointwiseConv(BiPredicate<Long, Long> wanted) {
        this.wanted = wanted;
    }

    @Override
    public String name() {
        return "gemm-as-pointwise-conv";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        int changed = 0;
        for (Node n : Rewrites.snapshot(g)) {
            if (!n.is("Gemm") || n.inputs().size() < 2) {
                continue;
            }
            Tensor b = g.initializer(n.input(1));
            String biasName = n.inputs().size() > 2 ? n.input(2) : "";
            Tensor c = biasName.isEmpty() ? null : g.initializer(biasName);
            if (b == null || !b.isFloat() || b.shape().length != 2 || n.attrInt("transA", 0) != 0
                    || n.attrFloat("alpha", 1f) != 1f || n.attrFloat("beta", 1f) != 1f
                    || (!biasName.isEmpty() && (c == null || !c.isFloat() || c.numel() != outputs(b, n)))) {
                continue;
            }
            boolean transB = n.attrInt("transB", 0) != 0;
            long out = transB ? b.shape()[0] : b.shape()[1];
            long in = transB ? b.shape()[1] : b.shape()[0];
            if (!wanted.test(in, out)) {
                continue;
            }
            float[] w = b.floats();
            float[] k = w;
            if (!transB) {
                k = new float[w.length];
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        k[(int) (o * in + i)] = w[(int) (i * out + o)];
                    }
                }
            }
            int at = g.nodes().indexOf(n);
            g.nodes().remove(at);
            GraphBuilder gb = new GraphBuilder(g).insertingAt(at);
            String base = n.name();
            String kernel = gb.initializer(base + "/kernel", new long[] {out, in, 1, 1}, k);
            String x4 = gb.op("Reshape", base + "/as_image", n.input(0),
                    gb.initializer(base + "/image_shape", new long[] {4}, new long[] {0, in, 1, 1}));
            List<String> convIn = biasName.isEmpty() ? List.of(x4, kernel) : List.of(x4, kernel, flatBias(g, gb, c, base));
            String y4 = gb.opNamed("Conv", base, base + "/as_image_output", convIn, Attribute.ofInts("kernel_shape", 1, 1));
            g.nodes().add(at + 2, new Node(base + "/as_rows", "Flatten", "", List.of(y4), List.of(n.output(0)),
                    List.of(Attribute.ofInt("axis", 1)), null));
            changed++;
        }
        g.removeUnusedInitializers();
        return changed;
    }

    private static long outputs(Tensor b, Node n) {
        return n.attrInt("transB", 0) != 0 ? b.shape()[0] : b.shape()[1];
    }

    /** The bias as the conv's 1-D [O] (a Gemm's may be [1, O]). */
    private static String flatBias(Graph g, GraphBuilder gb, Tensor c, String base) {
        if (c.shape().length == 1) {
            return c.name();
        }
        return gb.initializer(base + "/bias", new long[] {c.numel()}, c.floats());
    }
}
