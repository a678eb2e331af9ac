package dev.acdc.runtime.calibration;

import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;
import dev.acdc.onnx.OnnxModels;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Serialized variants of a model that output chosen intermediate values and compute nothing else. */
public final class ActivationModels {
    private ActivationModels() {
    }

    /**
     * The bytes of {@code m} with {@code values} as its only outputs and every node they do not depend
     * on removed. {@code m} is left as it was.
     */
    public static byte[] exposing(Model m, Collection<String> values) {
        return exposing(m, values, true);
    }

    /** As {@link #exposing(Model, Collection)}; {@code keepDataInputs} false drops the data inputs (for constants). */
    public static byte[] exposing(Model m, Collection<String> values, boolean keepDataInputs) {
        Graph g = m.graph();
        List<Node> nodes = new ArrayList<>(g.nodes());
        List<ValueInfo> outputs = new ArrayList<>(g.outputs());
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        List<ValueInfo> inputs = new ArrayList<>(g.inputs());
        try {
            Set<String> needed = new HashSet<>(values);
            List<Node> keep = new ArrayList<>();
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node n = nodes.get(i);
                if (n.outputs().stream().anyMatch(needed::contains)) {
                    keep.add(n);
                    needed.addAll(n.inputs());
                }
            }
            Collections.reverse(keep);
            g.nodes().clear();
            g.nodes().addAll(keep);
            g.outputs().clear();
            for (String v : values) {
                g.outputs().add(new ValueInfo(v, DataType.FLOAT, null, null));
            }
            g.initializers().keySet().retainAll(needed);
            // an IR < 4 model declares initializers as inputs: drop those whose initializer went
            g.inputs().removeIf(v -> inits.containsKey(v.name()) && !g.isInitializer(v.name()));
            if (!keepDataInputs) {
                g.inputs().removeIf(v -> !g.isInitializer(v.name()));
            }
            return OnnxModels.toBytes(m);
        } finally {
            g.initializers().clear();
            g.initializers().putAll(inits);
            g.inputs().clear();
            g.inputs().addAll(inputs);
            g.nodes().clear();
            g.nodes().addAll(nodes);
            g.outputs().clear();
            g.outputs().addAll(outputs);
        }
    }
}
