package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code Reshape → Transpose → Reshape} becomes one {@code Reshape} when the Transpose moves only axes of
 * size 1, so that it leaves the elements in memory order (an ACDC kernel chain of a conv narrower than its
 * group, one block: {@code [g, g, 1, 1, kh, kw]} permuted to {@code [1, g, 1, g, kh, kw]}). Only chains whose
 * Reshape targets are constants without {@code -1} or {@code 0}, and whose intermediate values nothing else
 * reads, are changed. Requires a well-formed graph; ensures it stays so and computes the same values.
 */
public final class CollapseReshapes implements Pass {
    @Override
    public String name() {
        return "collapse-reshapes";
    }

    @Override
    public List<Condition> requires() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        Map<String, List<Node>> consumers = g.consumerIndex();
        List<Node> gone = new ArrayList<>();
        for (Node t : g.nodes()) {
            if (!t.is("Transpose")) {
                continue;
            }
            Node first = g.producer(t.input(0));
            List<Node> after = consumers.getOrDefault(t.output(0), List.of());
            if (first == null || !first.is("Reshape") || after.size() != 1 || !after.get(0).is("Reshape")
                    || consumers.getOrDefault(first.output(0), List.of()).size() != 1
                    || g.isGraphOutput(first.output(0)) || g.isGraphOutput(t.output(0))) {
                continue;
            }
            long[] shape = constantShape(g, first);
            long[] perm = t.attrInts("perm", null);
            if (shape == null || constantShape(g, after.get(0)) == null || perm == null || perm.length != shape.length
                    || !keepsMemoryOrder(shape, perm)) {
                continue;
            }
            after.get(0).setInput(0, first.input(0));
            gone.add(first);
            gone.add(t);
        }
        g.nodes().removeAll(gone);
        g.removeUnusedInitializers();
        return gone.size() / 2;
    }

    private static long[] constantShape(Graph g, Node reshape) {
        if (reshape.inputs().size() < 2 || !g.isInitializer(reshape.input(1))) {
            return null;
        }
        long[] s = g.initializer(reshape.input(1)).longs();
        for (long d : s) {
            if (d <= 0) {
                return null;
            }
        }
        return s;
    }

    /** Whether permuting {@code shape} by {@code perm} keeps the axes of size > 1 in their order. */
    static boolean keepsMemoryOrder(long[] shape, long[] perm) {
        long last = -1;
        for (long p : perm) {
            if (p < 0 || p >= shape.length) {
                return false;
            }
            if (shape[(int) p] > 1) {
                if (p < last) {
                    return false;
                }
                last = p;
            }
        }
        return true;
    }
}
