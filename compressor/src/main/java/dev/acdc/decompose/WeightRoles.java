package dev.acdc.decompose;

import dev.acdc.AcdcException;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.util.Json;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each weight of a compact model is: the shared coefficients, a conv's atoms, a dense weight, or a
 * BatchNormalization's running statistics. The exporter records the first two in the model's metadata
 * ({@value #KEY}, a JSON object from initializer name to role), so fine-tuning chooses what to train
 * by role, whatever the tensors are called. A model without the record (written before it existed)
 * gets the roles from its structure: the two inputs of a {@code MatMul} whose product becomes a
 * {@code Conv}'s weight through {@code Reshape}/{@code Transpose} are coefficients and atoms.
 */
public final class WeightRoles {
    /** A weight's role. */
    public enum Role { COEFFICIENTS, ATOMS, DENSE, STATISTICS }

    public static final String KEY = "acdc.roles";

    private WeightRoles() {
    }

    /** Records the coefficient and atom tensors of {@code m} (the compact form's) in its metadata. */
    public static void record(Model m, Map<String, Role> roles) {
        Map<String, String> json = new LinkedHashMap<>();
        roles.forEach((k, v) -> json.put(k, v.name().toLowerCase(java.util.Locale.ROOT)));
        m.metadata().put(KEY, Json.compact(json));
    }

    /** The role of every float initializer of {@code m}. */
    public static Map<String, Role> of(Model m) {
        Graph g = m.graph();
        Map<String, Role> roles = new LinkedHashMap<>();
        for (Tensor t : g.initializers().values()) {
            if (t.isFloat()) {
                roles.put(t.name(), Role.DENSE);
            }
        }
        Map<String, Role> recorded = m.metadata().containsKey(KEY) ? parse(m.metadata().get(KEY)) : structural(g);
        recorded.forEach((name, role) -> {
            if (roles.containsKey(name)) {
                roles.put(name, role);
            }
        });
        for (Node n : g.nodes()) {
            if (n.is("BatchNormalization") && n.inputs().size() >= 5) {
                for (int i = 3; i < 5; i++) {
                    if (roles.containsKey(n.input(i))) {
                        roles.put(n.input(i), Role.STATISTICS);
                    }
                }
            }
        }
        return roles;
    }

    private static Map<String, Role> parse(String json) {
        Map<String, Role> out = new LinkedHashMap<>();
        try {
            Map<?, ?> m = Json.mapper().readValue(json, Map.class);
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(String.valueOf(e.getKey()), Role.valueOf(String.valueOf(e.getValue()).toUpperCase(java.util.Locale.ROOT)));
            }
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new AcdcException("the model's " + KEY + " metadata is not a map of weight roles: " + e.getMessage());
        }
        return out;
    }

    private static Map<String, Role> structural(Graph g) {
        Map<String, Role> out = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (n.is("MatMul") && n.inputs().size() == 2 && g.isInitializer(n.input(0)) && g.isInitializer(n.input(1))
                    && becomesConvWeight(g, n.output(0))) {
                out.put(n.input(0), Role.COEFFICIENTS);
                out.put(n.input(1), Role.ATOMS);
            }
        }
        return out;
    }

    private static boolean becomesConvWeight(Graph g, String value) {
        for (Node c : g.consumers(value)) {
            if ((c.is("Conv") || c.is("ConvTranspose")) && c.inputs().size() > 1 && c.input(1).equals(value)) {
                return true;
            }
            if ((c.is("Reshape") || c.is("Transpose")) && c.input(0).equals(value) && becomesConvWeight(g, c.output(0))) {
                return true;
            }
        }
        return false;
    }

    /** Names with the given role, in initializer order. */
    public static List<String> named(Map<String, Role> roles, Role role) {
        return roles.entrySet().stream().filter(e -> e.getValue() == role).map(Map.Entry::getKey).toList();
    }
}
