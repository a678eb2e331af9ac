package dev.acdc.ir;

import java.util.Collections;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * The registry of every operator acdc has a rule for. The rules are contributed by {@link Source}s found with
 * {@link ServiceLoader} (the standard ones by {@code ir.ops.StandardOperators}), so that this package, which
 * shape inference and the schema check read, does not depend on the package of the rules, which reads it.
 */
public final class Operators {
    /** A set of operator rules (listed in {@code META-INF/services/dev.acdc.ir.Operators$Source}). */
    public interface Source {
        java.util.List<OperatorRule> rules();
    }

    private static final Map<String, OperatorRule> RULES;

    static {
        Map<String, OperatorRule> m = new TreeMap<>();
        for (Source s : ServiceLoader.load(Source.class, Operators.class.getClassLoader())) {
            for (OperatorRule r : s.rules()) {
                if (m.put(r.op(), r) != null) {
                    throw new IllegalStateException("two rules for " + r.op());
                }
            }
        }
        if (m.isEmpty()) {
            throw new IllegalStateException("no operator rules found: META-INF/services/" + Source.class.getName()
                    + " is missing from the class path");
        }
        RULES = Collections.unmodifiableMap(m);
    }

    private Operators() {
    }

    /** The rule of {@code op} (default domain), or null. */
    public static OperatorRule of(String op) {
        return RULES.get(op);
    }

    /** Every operator with a rule, sorted. */
    public static Set<String> names() {
        return RULES.keySet();
    }
}
