package dev.acdc.passes;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;
import dev.acdc.util.Json;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gives every internal value a short name ({@code 0}, {@code 1}, … {@code z}, {@code 10}, … in base 36)
 * and clears the node names: in a small quantized model, exporter-length names ("/layer2/layer2.0/conv1/
 * Conv_output_0") take more bytes than the weights. The graph's inputs and outputs keep their names (the
 * model's interface), so does any initializer acdc cannot re-encode; the metadata entries named in the
 * constructor (JSON objects keyed by value names, such as the weight roles) are renamed with the values.
 * Requires a well-formed graph; ensures it stays so. Does nothing to a graph whose nodes carry attributes
 * acdc does not interpret (a subgraph may name outer values).
 */
public final class CompactNames implements Pass {
    private final Set<String> nameKeyedMetadata;

    /** @param nameKeyedMetadata metadata keys whose values are JSON objects keyed by value names */
    public CompactNames(Set<String> nameKeyedMetadata) {
        this.nameKeyedMetadata = Set.copyOf(nameKeyedMetadata);
    }

    @Override
    public String name() {
        return "compact-names";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        for (Node n : g.nodes()) {
            for (Attribute a : n.attributes().values()) {
                if (a.kind() == Attribute.Kind.OPAQUE) {
                    return 0;
                }
            }
        }
        Set<String> kept = new HashSet<>();
        for (ValueInfo v : g.inputs()) {
            kept.add(v.name());
        }
        for (ValueInfo v : g.outputs()) {
            kept.add(v.name());
        }
        for (Tensor t : g.initializers().values()) {
            if (!t.isDecoded()) {
                kept.add(t.name());
            }
        }
        Map<String, String> rename = new LinkedHashMap<>();
        int[] next = {0};
        java.util.function.Consumer<String> assign = v -> {
            if (v.isEmpty() || kept.contains(v) || rename.containsKey(v)) {
                return;
            }
            String s;
            do {
                s = Integer.toString(next[0]++, 36);
            } while (kept.contains(s));
            rename.put(v, s);
        };
        g.initializers().keySet().forEach(assign);
        for (Node n : g.nodes()) {
            n.outputs().forEach(assign);
        }
        List<Tensor> inits = new ArrayList<>(g.initializers().values());
        g.initializers().clear();
        for (Tensor t : inits) {
            g.putInitializer(rename.containsKey(t.name()) ? t.withName(rename.get(t.name())) : t);
        }
        for (Node n : g.nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) {
                String r = rename.get(n.input(i));
                if (r != null) {
                    n.setInput(i, r);
                }
            }
            for (int i = 0; i < n.outputs().size(); i++) {
                String r = rename.get(n.output(i));
                if (r != null) {
                    n.setOutput(i, r);
                }
            }
            n.setName("");
        }
        List<ValueInfo> infos = new ArrayList<>(g.valueInfo());
        g.valueInfo().clear();
        for (ValueInfo v : infos) {
            g.valueInfo().add(rename.containsKey(v.name()) ? v.withName(rename.get(v.name())) : v);
        }
        for (String key : nameKeyedMetadata) {
            String json = m.metadata().get(key);
            if (json != null) {
                m.metadata().put(key, Json.compact(renamedKeys(key, json, rename)));
            }
        }
        return rename.size();
    }

    private static Map<String, Object> renamedKeys(String key, String json, Map<String, String> rename) {
        Map<?, ?> in;
        try {
            in = Json.mapper().readValue(json, Map.class);
        } catch (java.io.IOException e) {
            throw new dev.acdc.AcdcException("the model's " + key + " metadata is not a JSON object: " + e.getMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        in.forEach((k, v) -> out.put(rename.getOrDefault(String.valueOf(k), String.valueOf(k)), v));
        return out;
    }
}
