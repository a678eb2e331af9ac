package dev.acdc.onnx;

import com.google.protobuf.ByteString;
import dev.acdc.AcdcException;
import dev.acdc.onnx.proto.OnnxProto.AttributeProto;
import dev.acdc.onnx.proto.OnnxProto.FunctionProto;
import dev.acdc.onnx.proto.OnnxProto.GraphProto;
import dev.acdc.onnx.proto.OnnxProto.ModelProto;
import dev.acdc.onnx.proto.OnnxProto.NodeProto;
import dev.acdc.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;
import dev.acdc.onnx.proto.OnnxProto.ValueInfoProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Model-local functions (ONNX IR version 8): a function is a named list of nodes that nodes of its domain
 * call by name, like a macro. acdc's IR has no functions, so this class works on both sides of it:
 * <ul>
 *   <li>{@link #inline} replaces, when a model is read, every call in the main graph by the function's
 *       nodes (values renamed apart, attribute references bound), as ONNX Runtime does when it loads one;</li>
 *   <li>{@link #outline} stores, when a model is written with {@link dev.acdc.ir.Model#setLocalFunctions},
 *       each chain of nodes that occurs several times once, as a function of domain {@value #DOMAIN}, and
 *       replaces each occurrence by one call. Inlining the result gives back the same nodes (up to the
 *       names of the chains' internal values and nodes), so a runtime that inlines at load — ONNX Runtime
 *       does, before its graph optimizations — runs and fuses the same graph.</li>
 * </ul>
 * The chains {@link #outline} considers: the nodes that compute one node's constant inputs from
 * initializers alone (a decomposed kernel's MatMul/Reshape/scale chain, a static int8 model's kernel and
 * bias quantization), and a QuantizeLinear whose only reader is a DequantizeLinear of the same scale
 * (an activation's QDQ pair). A chain is outlined only when that makes the file smaller.
 */
final class LocalFunctions {
    /** The domain of the functions {@link #outline} writes. */
    static final String DOMAIN = "acdc";
    private static final int MAX_DEPTH = 16;
    /** Nodes inlining may produce: calls nested 16 deep can multiply a few nodes into billions. */
    private static final int MAX_NODES = 1_000_000;

    private LocalFunctions() {
    }

    // ---------------------------------------------------------------- reading

    /**
     * The model with every call of a local function in its main graph replaced by the function's body
     * (calls in the body are expanded too). Functions no longer called anywhere are dropped. A function
     * whose opset for a domain differs from the model's is refused: its nodes would mean something else
     * in the model.
     */
    static ModelProto inline(ModelProto p) {
        if (p.getFunctionsCount() == 0) {
            return p;
        }
        Map<String, FunctionProto> functions = new HashMap<>();
        for (FunctionProto f : p.getFunctionsList()) {
            functions.put(key(f.getDomain(), f.getName(), f.getOverload()), f);
        }
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : p.getOpsetImportList()) {
            opsets.put(normal(o.getDomain()), o.getVersion());
        }
        int before = opsets.size();
        Set<String> names = new HashSet<>();
        GraphProto g = p.getGraph();
        for (TensorProto t : g.getInitializerList()) {
            names.add(t.getName());
        }
        for (ValueInfoProto v : g.getInputList()) {
            names.add(v.getName());
        }
        for (NodeProto n : g.getNodeList()) {
            names.addAll(n.getInputList());
            names.addAll(n.getOutputList());
            names.add(n.getName());
        }
        Inliner in = new Inliner(functions, opsets, names);
        List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto n : g.getNodeList()) {
            in.expand(n, 0, nodes);
        }
        ModelProto.Builder b = p.toBuilder().setGraph(g.toBuilder().clearNode().addAllNode(nodes));
        if (opsets.size() > before) {
            for (Map.Entry<String, Long> e : opsets.entrySet()) {
                boolean present = false;
                for (OperatorSetIdProto o : p.getOpsetImportList()) {
                    present |= normal(o.getDomain()).equals(e.getKey());
                }
                if (!present) {
                    b.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(e.getKey()).setVersion(e.getValue()));
                }
            }
        }
        if (!calls(b.getGraph(), functions.keySet())) {
            b.clearFunctions();
        }
        return b.build();
    }

    private static final class Inliner {
        private final Map<String, FunctionProto> functions;
        private final Map<String, Long> opsets;
        private final Set<String> names;
        private int calls;

        Inliner(Map<String, FunctionProto> functions, Map<String, Long> opsets, Set<String> names) {
            this.functions = functions;
            this.opsets = opsets;
            this.names = names;
        }

        void expand(NodeProto call, int depth, List<NodeProto> out) {
            FunctionProto f = functions.get(key(call.getDomain(), call.getOpType(), call.getOverload()));
            if (f == null) {
                if (out.size() >= MAX_NODES) {
                    throw new AcdcException("inlining the model's local functions gives more than " + MAX_NODES
                            + " nodes");
                }
                out.add(call);
                return;
            }
            if (depth >= MAX_DEPTH) {
                throw new AcdcException("local function '" + f.getName() + "' calls functions more than " + MAX_DEPTH
                        + " deep (is it recursive?)");
            }
            checkOpsets(f);
            if (call.getInputCount() > f.getInputCount() || call.getOutputCount() > f.getOutputCount()) {
                throw new AcdcException("a call of local function '" + f.getName() + "' has " + call.getInputCount()
                        + " inputs and " + call.getOutputCount() + " outputs; the function declares "
                        + f.getInputCount() + " and " + f.getOutputCount());
            }
            String prefix = fresh(f.getName() + "_" + calls++ + "/");
            Map<String, String> bind = new HashMap<>();
            bind.put("", "");
            for (int i = 0; i < f.getInputCount(); i++) {
                bind.put(f.getInput(i), i < call.getInputCount() ? call.getInput(i) : "");
            }
            for (int i = 0; i < f.getOutputCount(); i++) {
                bind.put(f.getOutput(i), i < call.getOutputCount() ? call.getOutput(i) : fresh(prefix + f.getOutput(i)));
            }
            Map<String, AttributeProto> given = new HashMap<>();
            for (AttributeProto a : f.getAttributeProtoList()) {
                given.put(a.getName(), a);
            }
            for (AttributeProto a : call.getAttributeList()) {
                given.put(a.getName(), a);
            }
            for (NodeProto n : f.getNodeList()) {
                NodeProto.Builder b = n.toBuilder().clearInput().clearOutput().clearAttribute();
                for (String x : n.getInputList()) {
                    b.addInput(bind.computeIfAbsent(x, k -> fresh(prefix + k)));
                }
                for (String y : n.getOutputList()) {
                    b.addOutput(bind.computeIfAbsent(y, k -> fresh(prefix + k)));
                }
                if (!n.getName().isEmpty()) {
                    b.setName(fresh(prefix + n.getName()));
                }
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getRefAttrName().isEmpty()) {
                        b.addAttribute(a);
                    } else {
                        AttributeProto v = given.get(a.getRefAttrName());
                        if (v != null) {
                            b.addAttribute(v.toBuilder().setName(a.getName()).clearRefAttrName());
                        }
                    }
                }
                expand(b.build(), depth + 1, out);
            }
        }

        private void checkOpsets(FunctionProto f) {
            for (OperatorSetIdProto o : f.getOpsetImportList()) {
                String d = normal(o.getDomain());
                Long mine = opsets.get(d);
                if (mine == null) {
                    opsets.put(d, o.getVersion());
                } else if (mine != o.getVersion()) {
                    throw new AcdcException("local function '" + f.getName() + "' uses opset " + o.getVersion()
                            + " of domain '" + d + "' but the model imports opset " + mine
                            + "; acdc cannot inline it (its nodes would change meaning)");
                }
            }
        }

        private String fresh(String base) {
            String s = base;
            for (int i = 1; !names.add(s); i++) {
                s = base + "_" + i;
            }
            return s;
        }
    }

    private static boolean calls(GraphProto g, Set<String> keys) {
        for (NodeProto n : g.getNodeList()) {
            if (keys.contains(key(n.getDomain(), n.getOpType(), n.getOverload()))) {
                return true;
            }
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG() && calls(a.getG(), keys)) {
                    return true;
                }
                for (GraphProto sub : a.getGraphsList()) {
                    if (calls(sub, keys)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static String key(String domain, String name, String overload) {
        return normal(domain) + "\u0000" + name + "\u0000" + overload;
    }

    private static String normal(String domain) {
        return "ai.onnx".equals(domain) ? "" : domain;
    }

    // ---------------------------------------------------------------- writing

    /**
     * The model with each repeated chain (see the class comment) stored once as a function of domain
     * {@value #DOMAIN} and called where it occurred, when that saves bytes; IR version raised to 8 if lower.
     * A model without such chains is returned as it is.
     */
    static ModelProto outline(ModelProto p) {
        GraphProto g = p.getGraph();
        List<NodeProto> nodes = g.getNodeList();
        Map<String, Integer> producer = new HashMap<>();
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String y : nodes.get(i).getOutputList()) {
                producer.put(y, i);
            }
            for (String x : nodes.get(i).getInputList()) {
                readers.computeIfAbsent(x, k -> new ArrayList<>()).add(i);
            }
        }
        Set<String> graphOutputs = new HashSet<>();
        for (ValueInfoProto v : g.getOutputList()) {
            graphOutputs.add(v.getName());
        }
        Set<String> initializers = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) {
            initializers.add(t.getName());
        }
        // nodes computable from initializers alone (graph order is topological)
        boolean[] constant = new boolean[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            boolean c = n.getOutputCount() > 0 && !hasSubgraph(n);
            for (String x : n.getInputList()) {
                Integer j = producer.get(x);
                c &= x.isEmpty() || (j == null ? initializers.contains(x) : j < i && constant[j]);
            }
            for (String y : n.getOutputList()) {
                c &= !graphOutputs.contains(y);
            }
            constant[i] = c;
        }
        List<List<Integer>> chains = new ArrayList<>();
        boolean[] taken = new boolean[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            if (constant[i]) {
                continue;
            }
            TreeSet<Integer> cone = new TreeSet<>();
            List<String> stack = new ArrayList<>(nodes.get(i).getInputList());
            while (!stack.isEmpty()) {
                Integer j = producer.get(stack.remove(stack.size() - 1));
                if (j != null && constant[j] && !taken[j] && cone.add(j)) {
                    stack.addAll(nodes.get(j).getInputList());
                }
            }
            for (boolean pruned = true; pruned; ) {
                pruned = false;
                for (Integer j : List.copyOf(cone)) {
                    for (String y : nodes.get(j).getOutputList()) {
                        for (int r : readers.getOrDefault(y, List.of())) {
                            if (r != i && !cone.contains(r) && cone.remove(j)) {
                                pruned = true;
                            }
                        }
                    }
                }
            }
            if (cone.size() >= 2) {
                chains.add(List.copyOf(cone));
                cone.forEach(j -> taken[j] = true);
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto q = nodes.get(i);
            if (taken[i] || !isDefault(q, "QuantizeLinear") || q.getOutputCount() != 1
                    || graphOutputs.contains(q.getOutput(0))) {
                continue;
            }
            List<Integer> r = readers.getOrDefault(q.getOutput(0), List.of());
            if (r.size() != 1 || taken[r.get(0)]) {
                continue;
            }
            NodeProto dq = nodes.get(r.get(0));
            if (isDefault(dq, "DequantizeLinear") && dq.getInputCount() == q.getInputCount()
                    && dq.getInput(0).equals(q.getOutput(0))
                    && dq.getInputList().subList(1, dq.getInputCount()).equals(q.getInputList().subList(1, q.getInputCount()))) {
                chains.add(List.of(i, r.get(0)));
                taken[i] = taken[r.get(0)] = true;
            }
        }
        // chains of the same shape share one function
        Map<ByteString, List<Chain>> byShape = new LinkedHashMap<>();
        for (List<Integer> c : chains) {
            Chain ch = Chain.of(c, nodes, producer, readers, graphOutputs);
            byShape.computeIfAbsent(ch.shape(), k -> new ArrayList<>()).add(ch);
        }
        Set<String> usedNames = new HashSet<>();
        for (FunctionProto f : p.getFunctionsList()) {
            if (DOMAIN.equals(f.getDomain())) {
                usedNames.add(f.getName());
            }
        }
        List<FunctionProto> functions = new ArrayList<>();
        Map<Integer, NodeProto> callAt = new HashMap<>();
        Set<Integer> removed = new HashSet<>();
        int id = 0;
        for (List<Chain> uses : byShape.values()) {
            if (uses.size() < 2) {
                continue;
            }
            while (usedNames.contains("f" + id)) {
                id++;
            }
            String name = "f" + id;
            FunctionProto f = uses.get(0).function(name, p.getOpsetImportList(), uses.size());
            List<NodeProto> calls = new ArrayList<>();
            long inline = 0;
            long called = f.getSerializedSize();
            for (Chain c : uses) {
                NodeProto call = c.call(name, nodes);
                calls.add(call);
                called += call.getSerializedSize() + 3;
                for (int j : c.nodes()) {
                    inline += nodes.get(j).getSerializedSize() + 3;
                }
            }
            if (called >= inline) {
                continue;
            }
            functions.add(f);
            id++;
            for (int k = 0; k < uses.size(); k++) {
                List<Integer> c = uses.get(k).nodes();
                removed.addAll(c);
                callAt.put(c.get(c.size() - 1), calls.get(k));
            }
        }
        if (functions.isEmpty()) {
            return p;
        }
        GraphProto.Builder gb = g.toBuilder().clearNode();
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto call = callAt.get(i);
            if (call != null) {
                gb.addNode(call);
            } else if (!removed.contains(i)) {
                gb.addNode(nodes.get(i));
            }
        }
        ModelProto.Builder b = p.toBuilder().setGraph(gb).addAllFunctions(functions)
                .setIrVersion(Math.max(p.getIrVersion(), 8));
        boolean imported = false;
        for (OperatorSetIdProto o : p.getOpsetImportList()) {
            imported |= DOMAIN.equals(o.getDomain());
        }
        if (!imported) {
            b.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(DOMAIN).setVersion(1));
        }
        return b.build();
    }

    private static boolean isDefault(NodeProto n, String op) {
        return op.equals(n.getOpType()) && normal(n.getDomain()).isEmpty();
    }

    private static boolean hasSubgraph(NodeProto n) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasG() || a.getGraphsCount() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * One occurrence of a chain: its nodes (graph positions, in order), the values it reads from outside
     * (in order of first use), the values it gives to the rest of the graph, and its shape: the nodes with
     * those values numbered, so two occurrences with equal shapes compute the same function.
     */
    private record Chain(List<Integer> nodes, List<String> inputs, List<String> outputs, List<NodeProto> body,
                         List<String> bodyOutputs, ByteString shape) {
        static Chain of(List<Integer> idx, List<NodeProto> graph, Map<String, Integer> producer,
                        Map<String, List<Integer>> readers, Set<String> graphOutputs) {
            Set<Integer> in = new HashSet<>(idx);
            List<String> inputs = new ArrayList<>();
            List<String> outputs = new ArrayList<>();
            List<String> bodyOutputs = new ArrayList<>();
            Map<String, String> local = new HashMap<>();
            List<NodeProto> body = new ArrayList<>();
            ByteString.Output shape = ByteString.newOutput();
            for (int k = 0; k < idx.size(); k++) {
                NodeProto n = graph.get(idx.get(k));
                NodeProto.Builder b = n.toBuilder().clearInput().clearOutput().clearName().clearDocString();
                for (String x : n.getInputList()) {
                    Integer j = producer.get(x);
                    if (x.isEmpty()) {
                        b.addInput("");
                    } else if (j != null && in.contains(j)) {
                        b.addInput(local.get(x));
                    } else {
                        if (!inputs.contains(x)) {
                            inputs.add(x);
                        }
                        b.addInput("x" + inputs.indexOf(x));
                    }
                }
                for (int q = 0; q < n.getOutputCount(); q++) {
                    String y = n.getOutput(q);
                    String name = "t" + k + "_" + q;
                    local.put(y, name);
                    b.addOutput(name);
                    boolean escapes = graphOutputs.contains(y);
                    for (int r : readers.getOrDefault(y, List.of())) {
                        escapes |= !in.contains(r);
                    }
                    if (escapes) {
                        outputs.add(y);
                        bodyOutputs.add(name);
                    }
                }
                NodeProto node = b.build();
                body.add(node);
                try {
                    node.writeDelimitedTo(shape);
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            String signature = inputs.size() + ":" + String.join(",", bodyOutputs);
            shape.write(signature.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, signature.length());
            return new Chain(List.copyOf(idx), inputs, outputs, body, bodyOutputs, shape.toByteString());
        }

        FunctionProto function(String name, List<OperatorSetIdProto> opsets, int uses) {
            FunctionProto.Builder f = FunctionProto.newBuilder().setName(name).setDomain(DOMAIN);
            for (int i = 0; i < inputs.size(); i++) {
                f.addInput("x" + i);
            }
            f.addAllOutput(bodyOutputs).addAllNode(body);
            for (OperatorSetIdProto o : opsets) {
                if (!DOMAIN.equals(o.getDomain())) {
                    f.addOpsetImport(o);
                }
            }
            List<String> ops = new ArrayList<>();
            for (NodeProto n : body) {
                ops.add(n.getOpType());
            }
            return f.setDocString(String.join(", ", ops) + "; called " + uses + " times").build();
        }

        NodeProto call(String function, List<NodeProto> graph) {
            NodeProto last = graph.get(nodes.get(nodes.size() - 1));
            NodeProto.Builder b = NodeProto.newBuilder().setOpType(function).setDomain(DOMAIN)
                    .addAllInput(inputs).addAllOutput(outputs);
            if (!last.getName().isEmpty()) {
                b.setName(last.getName());
            }
            return b.build();
        }
    }
}
