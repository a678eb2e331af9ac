package dev.acdc.decompose;

import dev.acdc.ir.Model;

import java.util.List;
import java.util.function.Consumer;

/**
 * A step between the SVD fit and the export that may replace sets' factors — the output-matching
 * fit on calibration images is one. Requires: {@code m} is the cleaned model with its original
 * weights and {@code d} its SVD fit. Ensures: {@code m} is unchanged; {@code d} holds factors for
 * every set (replaced ones via {@link Decomposition#apply}).
 */
public interface Refinement {
    /** A name for timings, metadata and reports (e.g. "output"). */
    String id();

    /** Refines {@code d}; returns notes for the report. */
    List<String> refine(Model m, Decomposition d, Consumer<String> progress);
}
