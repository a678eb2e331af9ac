package dev.acdc.decompose;

import dev.acdc.ir.Model;
import dev.acdc.passes.CompactNames;
import dev.acdc.passes.DropDefaultAttributes;
import dev.acdc.passes.PassManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How a written model is encoded beyond its values — the options that make the file smaller without
 * changing what it computes: {@code compactNames} gives the internal values short names and the nodes
 * none ({@link CompactNames}; inputs, outputs and the weight roles follow) and leaves out attributes
 * that restate their operator's default ({@link DropDefaultAttributes}); {@code localFunctions} has the
 * writer store each repeated node chain once, as an ONNX model-local function
 * ({@link Model#setLocalFunctions}).
 */
public record FileEncoding(boolean compactNames, boolean localFunctions) {
    /** Names as read, no functions ({@code --keep-names --no-local-functions}). */
    public static final FileEncoding PLAIN = new FileEncoding(false, false);

    /**
     * The default: short names and local functions. Both change bytes only, never a value; ONNX Runtime
     * (CPU and CUDA, 1.14 and newer, Java and Python) inlines the functions when it loads the graph, before
     * any optimisation, so the session runs the same kernels at the same speed (docs/deploying.md).
     */
    public static final FileEncoding DEFAULT = new FileEncoding(true, true);

    /** Whether anything differs from {@link #PLAIN}. */
    public boolean any() {
        return compactNames || localFunctions;
    }

    /** What the encoding does, for a report line ("" for {@link #PLAIN}). */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (compactNames) {
            parts.add("short internal names, default attributes left out");
        }
        if (localFunctions) {
            parts.add("repeated node chains stored once as ONNX local functions (IR 8)");
        }
        return String.join("; ", parts);
    }

    /** Applies the encoding to {@code m} in place. */
    public void apply(Model m) {
        if (compactNames) {
            new PassManager(List.of(new CompactNames(Set.of(WeightRoles.KEY)), new DropDefaultAttributes())).run(m);
        }
        m.setLocalFunctions(localFunctions);
    }
}
