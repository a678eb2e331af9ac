package dev.acdc.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds nodes into a graph. It owns naming (every value and node gets a unique, readable name) and
 * checks each node against {@link OpSchema}, so callers cannot build a node with the wrong number of
 * inputs or outputs. Used by the compact exporter and by tests that build tiny models in code.
 */
public final class GraphBuilder {
    private final Graph graph;
    private final Set<String> used = new HashSet<>();
    private int insertAt;

    /** Appends to {@code g}. */
    public GraphBuilder(Graph g) {
        this.graph = g;
        used.addAll(g.valueNames());
        for (Node n : g.nodes()) {
            used.add(n.name());
        }
        insertAt = -1;
    }

    /** A builder for a new graph. */
    public static GraphBuilder create(String name) {
        return new GraphBuilder(new Graph(name));
    }

    public Graph graph() {
        return graph;
    }

    /** New nodes go before position {@code index} of the node list (-1: append). */
    public GraphBuilder insertingAt(int index) {
        this.insertAt = index;
        return this;
    }

    /** A name not used yet: {@code base}, else base_1, base_2, ... */
    public String fresh(String base) {
        String n = base;
        for (int i = 1; used.contains(n); i++) {
            n = base + "_" + i;
        }
        used.add(n);
        return n;
    }

    public String input(String name, DataType type, long... shape) {
        String n = fresh(name);
        graph.inputs().add(ValueInfo.tensor(n, type, shape));
        return n;
    }

    public void output(String value, DataType type, long... shape) {
        graph.outputs().add(ValueInfo.tensor(value, type, shape));
    }

    public String initializer(String name, long[] shape, float[] values) {
        String n = fresh(name);
        graph.putInitializer(Tensor.ofFloats(n, shape, values));
        return n;
    }

    public String initializer(String name, long[] shape, long[] values) {
        String n = fresh(name);
        graph.putInitializer(Tensor.ofLongs(n, shape, values));
        return n;
    }

    /** Adds a node with one output named after {@code name}; returns that output's name. */
    public String op(String op, String name, List<String> inputs, Attribute... attrs) {
        return opN(op, name, inputs, 1, attrs).get(0);
    }

    public String op(String op, String name, String... inputs) {
        return op(op, name, Arrays.asList(inputs));
    }

    /**
     * Adds a one-output node whose output is named after {@code output} (made unique) rather than after the
     * node; returns the output's name.
     */
    public String opNamed(String op, String name, String output, List<String> inputs, Attribute... attrs) {
        Node n = new Node(fresh(name), op, "", inputs, List.of(fresh(output)), Arrays.asList(attrs), null);
        OpSchema.check(n);
        if (insertAt < 0) {
            graph.nodes().add(n);
        } else {
            graph.nodes().add(insertAt++, n);
        }
        return n.output(0);
    }

    /** Adds a node with {@code outputs} outputs; returns their names. */
    public List<String> opN(String op, String name, List<String> inputs, int outputs, Attribute... attrs) {
        String nodeName = fresh(name);
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            outs.add(fresh(nodeName + (outputs == 1 ? "_output" : "_output_" + i)));
        }
        Node n = new Node(nodeName, op, "", inputs, outs, Arrays.asList(attrs), null);
        OpSchema.check(n);
        if (insertAt < 0) {
            graph.nodes().add(n);
        } else {
            graph.nodes().add(insertAt++, n);
        }
        return outs;
    }

    public String conv(String name, String x, String w, String b, long group, long[] strides, long[] pads) {
        List<String> ins = b == null ? List.of(x, w) : List.of(x, w, b);
        return op("Conv", name, ins, Attribute.ofInt("group", group), Attribute.ofInts("strides", strides),
                Attribute.ofInts("pads", pads));
    }
}
