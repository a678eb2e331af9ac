package dev.acdc.cli;

import picocli.CommandLine.Option;

/**
 * {@code compress --quantize} (heading "int8"); the rest of the int8 options are {@link QuantizeOptions}.
 */
@Setting(stage = Setting.Stage.QUANTIZE)
final class QuantizeArgs {
    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--quantize", paramLabel = "int8-weights|int8",
            description = "After the fit (and fine-tune), quantize the model to int8 as acdc quantize does: int8-weights "
                    + "(the ACDC coefficients and atoms and every dense weight as int8) or int8 (activations too, "
                    + "calibrated on the calibration images: needs --calibration-data or --train-data). The report "
                    + "shows the float and the int8 model side by side.")
    String quantizeMode;
}
