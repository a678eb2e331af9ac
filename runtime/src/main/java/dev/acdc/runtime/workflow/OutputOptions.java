package dev.acdc.runtime.workflow;

import dev.acdc.report.ReportSchema;

/**
 * The write stage's options: the {@code files} the run writes, the {@code provenance} its reports carry (null:
 * the Java API's, its recipe from the request), and {@code strict}: refuse (exit 1, nothing written) an
 * output that is not smaller than the input.
 */
public record OutputOptions(OutputFiles.Outputs files, ReportSchema.Provenance provenance, boolean strict) {
    public OutputOptions {
        if (files == null) {
            throw new IllegalArgumentException("the output files are required");
        }
    }

    public static OutputOptions of(OutputFiles.Outputs files) {
        return new OutputOptions(files, null, false);
    }
}
