package dev.acdc.analysis;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Every Conv and ConvTranspose of a graph with its kernel and output shapes, in graph order: what
 * {@code inspect} lists and what the planner decides over. A ConvTranspose's kernel is {@code [I, O/group,
 * k...]}: its rows are input channels, and the decomposition treats the tensor exactly as a Conv's. Shapes come from the inferred facts; a weight whose shape is
 * unknown gives a row with zeros and {@code spatialRank = 0}.
 */
public final class ConvCensus {
    private ConvCensus() {
    }

    public static List<ConvShape> of(Graph g, Map<String, ShapeInference.Facts> facts) {
        List<ConvShape> convs = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.is("Conv") || n.is("ConvTranspose")) {
                convs.add(of(n, facts));
            }
        }
        return convs;
    }

    /** The shape of one Conv or ConvTranspose node. */
    public static ConvShape of(Node n, Map<String, ShapeInference.Facts> facts) {
        ShapeInference.Facts wf = facts.get(n.input(1));
        long[] w = wf == null ? null : wf.shape();
        ShapeInference.Facts yf = facts.get(n.output(0));
        long[] y = yf == null || yf.shape() == null ? new long[0] : yf.shape();
        long[] outShape = {y.length > 1 ? y[1] : -1, y.length > 2 ? y[2] : -1, y.length > 3 ? y[3] : -1};
        long group = n.attrInt("group", 1);
        if (w == null || w.length < 2) {
            return new ConvShape(n, 0, 0, 1, 1, group, new long[0], outShape, 0);
        }
        long[] strides = n.attrInts("strides", null);
        if (strides == null) {
            strides = new long[Math.max(0, w.length - 2)];
            Arrays.fill(strides, 1);
        }
        return new ConvShape(n, w[0], w[1], w.length > 2 ? w[2] : 1, w.length > 3 ? w[3] : 1, group, strides,
                outShape, w.length - 2);
    }
}
