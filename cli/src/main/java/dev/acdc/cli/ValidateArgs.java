package dev.acdc.cli;

import dev.acdc.AcdcException;

import picocli.CommandLine.Option;

/**
 * The validation stage's options of {@code compress} (heading "Validation").
 */
@Setting(stage = Setting.Stage.VALIDATE)
final class ValidateArgs {
    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--max-drop", paramLabel = "PTS", description = "With --eval-data: exit 1 when the written "
            + "model's top-1 is more than PTS points below the original's (the model and reports are still written, "
            + "as acdc validate judges a model it is given).")
    Double maxDrop;

    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--eval-data", paramLabel = "SPEC",
            description = "After compressing, validate against the original on this data set (same SPEC and "
                    + "preprocessing options as acdc validate) and put the result in the report.")
    String evalData;

    /** --max-drop's range and its need of evaluation data, before any work. */
    void check() {
        if (maxDrop != null && !(maxDrop >= 0 && maxDrop <= 100)) {
            throw new AcdcException("--max-drop must be between 0 and 100 points, got " + maxDrop);
        }
        if (maxDrop != null && evalData == null) {
            throw new AcdcException("--max-drop needs --eval-data SPEC (labelled) to measure the drop on");
        }
    }
}
