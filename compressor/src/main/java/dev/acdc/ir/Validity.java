package dev.acdc.ir;

import dev.acdc.AcdcException;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Structural checks on a model as read, before any work, each failure named in one line: a value
 * defined twice (two initializers of one name — ONNX Runtime would use one copy and acdc might fit the
 * other — or two producers), a node reading a value nothing defines, nodes out of order or in a cycle,
 * a graph output nothing produces, and Conv attributes that do not fit the weight (rank of
 * {@code pads}/{@code strides}/{@code dilations}/{@code kernel_shape}, bias length, channels per group).
 */
public final class Validity {
    private Validity() {
    }

    /** {@code initializerNames}: the initializer names in file order, duplicates included. */
    public static void check(Graph g, List<String> initializerNames) {
        Set<String> seen = new HashSet<>();
        for (String n : initializerNames) {
            if (!seen.add(n)) {
                throw new AcdcException("the model has two initializers named '" + n + "'");
            }
        }
        Map<String, String> definedBy = new HashMap<>();
        for (String n : initializerNames) {
            definedBy.put(n, "an initializer");
        }
        for (ValueInfo v : g.inputs()) {
            definedBy.putIfAbsent(v.name(), "a graph input");
        }
        Map<String, Node> producer = new HashMap<>();
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                if (o.isEmpty()) {
                    continue;
                }
                Node other = producer.put(o, n);
                if (other != null) {
                    throw new AcdcException("value '" + o + "' is produced twice: by node '" + other.label()
                            + "' and by node '" + n.label() + "'");
                }
                if (definedBy.containsKey(o) && g.isInitializer(o)) {
                    throw new AcdcException("node '" + n.label() + "' produces '" + o + "', which is also an initializer");
                }
            }
        }
        Set<String> available = new HashSet<>(definedBy.keySet());
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                if (in.isEmpty() || available.contains(in)) {
                    continue;
                }
                Node later = producer.get(in);
                if (later == null) {
                    throw new AcdcException("node '" + n.label() + "' (" + n.opType() + ") reads '" + in
                            + "', which no initializer, input or node defines");
                }
                throw new AcdcException("node '" + n.label() + "' reads '" + in + "' before node '" + later.label()
                        + "' produces it: the nodes are out of order or form a cycle");
            }
            for (String o : n.outputs()) {
                if (!o.isEmpty()) {
                    available.add(o);
                }
            }
        }
        if (g.outputs().isEmpty()) {
            throw new AcdcException("the model declares no graph output, so nothing it computes can be read or compared; "
                    + "export it again with its outputs named (torch.onnx.export(..., output_names=[...]))");
        }
        for (ValueInfo o : g.outputs()) {
            if (!available.contains(o.name())) {
                throw new AcdcException("graph output '" + o.name() + "' is produced by no node");
            }
        }
        for (Node n : g.nodes()) {
            if (n.is("Conv")) {
                try {
                    checkConv(g, n);
                } catch (IllegalStateException e) { // an attribute of the wrong type
                    throw new AcdcException("Conv '" + n.label() + "': " + e.getMessage());
                }
            }
        }
    }

    private static void checkConv(Graph g, Node n) {
        if (n.inputs().size() < 2 || !g.isInitializer(n.input(1))) {
            return; // a computed weight (acdc's compact form) is checked where it is built
        }
        long[] w = g.initializer(n.input(1)).shape();
        if (w.length < 3) {
            throw new AcdcException("Conv '" + n.label() + "': weight of rank " + w.length + " (needs O×I×k...)");
        }
        int spatial = w.length - 2;
        expect(n, "kernel_shape", spatial, 1);
        expect(n, "strides", spatial, 1);
        expect(n, "dilations", spatial, 1);
        expect(n, "pads", spatial, 2);
        long[] k = n.attrInts("kernel_shape", null);
        for (int i = 0; k != null && i < spatial; i++) {
            if (k[i] != w[2 + i]) {
                throw new AcdcException("Conv '" + n.label() + "': kernel_shape " + java.util.Arrays.toString(k)
                        + " does not match the weight " + java.util.Arrays.toString(w));
            }
        }
        long group = n.attrInt("group", 1);
        if (group < 1 || w[0] % group != 0) {
            throw new AcdcException("Conv '" + n.label() + "': group " + group + " does not divide the " + w[0]
                    + " output channels");
        }
        if (n.inputs().size() > 2 && !n.input(2).isEmpty() && g.isInitializer(n.input(2))) {
            long[] b = g.initializer(n.input(2)).shape();
            if (b.length != 1 || b[0] != w[0]) {
                throw new AcdcException("Conv '" + n.label() + "': bias of shape " + java.util.Arrays.toString(b)
                        + " for " + w[0] + " output channels");
            }
        }
    }

    private static void expect(Node n, String attr, int spatial, int per) {
        long[] v = n.attrInts(attr, null);
        if (v != null && v.length != spatial * per) {
            throw new AcdcException("Conv '" + n.label() + "': " + attr + " has " + v.length + " values, a "
                    + spatial + "-D convolution needs " + spatial * per);
        }
    }
}
