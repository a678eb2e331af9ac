package dev.acdc.decompose;

import dev.acdc.AcdcException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registered {@link DecompositionMethod}s: those named in
 * {@code META-INF/services/dev.acdc.decompose.DecompositionMethod} files on the class path (acdc's own
 * registers {@link AcdcMethod}), found once, by id.
 */
public final class DecompositionMethods {
    private static final Map<String, DecompositionMethod> BY_ID = load(DecompositionMethods.class.getClassLoader());

    private DecompositionMethods() {
    }

    /** The methods {@code loader}'s service files register, ACDC first. */
    static Map<String, DecompositionMethod> load(ClassLoader loader) {
        Map<String, DecompositionMethod> m = new LinkedHashMap<>();
        m.put(AcdcMethod.ID, new AcdcMethod()); // first, and there even in a repackaged jar without the service file
        for (DecompositionMethod d : ServiceLoader.load(DecompositionMethod.class, loader)) {
            DecompositionMethod before = m.putIfAbsent(d.id(), d);
            if (before != null && before.getClass() != d.getClass()) {
                throw AcdcException.internal("two decomposition methods are registered as '" + d.id() + "': "
                        + before.getClass().getName() + " and " + d.getClass().getName());
            }
        }
        return m;
    }

    /** The method {@code id}; an unknown one is refused, naming those there are. */
    public static DecompositionMethod get(String id) {
        DecompositionMethod d = BY_ID.get(id);
        if (d == null) {
            throw new AcdcException("unknown --method '" + id + "'; registered: " + String.join(", ", ids()));
        }
        return d;
    }

    /** The ids of the registered methods, ACDC first. */
    public static List<String> ids() {
        return new ArrayList<>(BY_ID.keySet());
    }

    public static List<DecompositionMethod> all() {
        return new ArrayList<>(BY_ID.values());
    }
}
