package dev.acdc.decompose;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A way to decompose a network's convolutions, in the three steps {@link Compressor} runs in order:
 * form the sets of convs that share factors ({@link #plan}), fit the factors ({@link #fit}; a
 * {@link Refinement} may replace them next), and write them into the graph ({@link #export}).
 * ACDC ({@link AcdcMethod}) is one. A method is found by its {@link #id} ({@code --method ID},
 * {@link Settings#method}); another one is a class of its own package plus one line naming it in
 * {@code META-INF/services/dev.acdc.decompose.DecompositionMethod}, on the class path of acdc or of any jar
 * beside it ({@link DecompositionMethods}).
 *
 * <p>The currency between the steps is the immutable {@link Plan} (every conv's decision, the sets and
 * their members) and the {@link Decomposition} (per set the shared factors, per conv its reconstructed
 * kernel and relative error), which the reports, the output fit and the fine-tune read.
 */
public interface DecompositionMethod {
    /** The name users give to {@code --method}, e.g. "acdc". */
    String id();

    /** One line for {@code --help} and the docs. */
    String description();

    /**
     * Requires: {@code m} cleaned by the standard passes, at opset {@link Compressor#EXPORT_OPSET}.
     * Ensures: {@code m} unchanged; the plan names every conv, decomposed or not (with why not).
     */
    Plan plan(Model m, Settings s, Consumer<String> progress);

    /** Requires: {@code plan} planned on {@code g}. Ensures: {@code g} unchanged; factors for every set. */
    Decomposition fit(Plan plan, Graph g, Consumer<String> progress);

    /**
     * Requires: {@code d} fitted (and refined) on {@code m}'s weights. Ensures: {@code m} computes each
     * decomposed conv with {@code d}'s kernel, in {@code form}, and holds no dense copy of it; returns notes.
     */
    List<String> export(Model m, Decomposition d, ExportForm form);

    /** Multiply-adds of decomposed conv {@code c} run in factorized form (for the reports). */
    long factorizedMacs(Plan plan, ConvPlan c);

    /**
     * The model metadata that records what the method did, in order ({@code fit}: "svd" or the
     * refinement's id); {@link Compressor} writes it after the producer and format version.
     */
    Map<String, String> metadata(Plan plan, String fit);
}
