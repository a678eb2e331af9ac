package dev.acdc.cli;

import dev.acdc.runtime.workflow.CompressionJob;

import picocli.CommandLine.Option;

/**
 * The load stage's options of {@code compress} (heading "Input model"), bound into {@link CompressionJob.LoadOptions}.
 */
@Setting(stage = Setting.Stage.INPUT)
final class LoadArgs {
    @Option(names = "--allow-nonfinite", description = "Go on when weights hold NaN or Inf: those convolutions stay "
            + "dense and the values are left as they are (default: refuse, naming the tensors).")
    boolean allowNonfinite;

    @Option(names = "--input-shape", paramLabel = "N,C,H,W",
            description = "Input shape for MAC counts and the probe (default: declared; a symbolic batch = 1, an open H "
                    + "or W = 224).")
    String inputShape;

    CompressionJob.LoadOptions options() {
        return new CompressionJob.LoadOptions(Options.parseShape(inputShape));
    }
}
