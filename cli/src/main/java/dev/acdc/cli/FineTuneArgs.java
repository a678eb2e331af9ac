package dev.acdc.cli;

import picocli.CommandLine.Option;

/**
 * The fine-tune's data of {@code compress} and the filter scaling before the fit (heading "Fine-tune"); the training options are {@link TrainCliOptions}.
 */
@Setting(stage = Setting.Stage.FINETUNE)
final class FineTuneArgs {
    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--train-data", paramLabel = "SPEC",
            description = "Fine-tune the compressed model on this data by distillation from the original "
                    + "(fit -> fine-tune -> export -> validate in one go); see the training options.")
    String trainData;

    @Setting(level = Setting.Level.RESEARCH)
    @Option(names = "--filter-norm", paramLabel = "R",
            description = "With --train-data and --batch-norm train: before the fit, scale every conv's output filters "
                    + "to L2 norm R and let the training BN carry the scale (the function is unchanged), so that neither "
                    + "the fit's weighting nor a filter's effective learning rate depends on the gamma/sigma that BN "
                    + "folding left in it. 0: off, fit and train the weights as they are (default ${DEFAULT-VALUE}; "
                    + "see docs/finetune.md).")
    double filterNorm = dev.acdc.runtime.workflow.FitOptions.FILTER_NORM;
}
