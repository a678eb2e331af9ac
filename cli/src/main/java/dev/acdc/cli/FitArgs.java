package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.runtime.calibration.OutputFitter;
import dev.acdc.runtime.workflow.FitOptions;

import picocli.CommandLine.Option;

/**
 * The fit stage's options of {@code compress} (heading "Fit"), bound into {@link FitOptions}.
 */
@Setting(stage = Setting.Stage.FIT)
final class FitArgs {
    @Option(names = "--fit", paramLabel = "svd|output",
            description = "How the factors are fitted: svd (truncated SVD of the weights, no data) or output (match "
                    + "each conv's output on calibration images, in order through the network, starting from the SVD "
                    + "fit, then correct each channel's mean shift). Default: output when calibration data are given "
                    + "(--calibration-data, or --train-data), else svd.")
    String fit;

    @Setting(level = Setting.Level.RESEARCH)
    @Option(names = "--fit-iterations", paramLabel = "N", defaultValue = "" + OutputFitter.ITERATIONS,
            description = "Alternating least-squares iterations per sharing set of the output fit, at most "
                    + "(default ${DEFAULT-VALUE}; it stops early when the error improves by less than 1e-5).")
    int fitIterations;

    @Setting(level = Setting.Level.RESEARCH)
    @Option(names = "--fit-target", paramLabel = "sum|conv", defaultValue = "sum",
            description = "What the output fit matches: conv (each conv's own output) or sum (a conv that feeds a "
                    + "residual Add matches that sum, so it also corrects the error the shortcut carries; other convs "
                    + "match their output). Default: ${DEFAULT-VALUE}.")
    String fitTarget;

    /**
     * The fit's options, checked: --fit, else output where calibration images are given; {@code filterNorm}
     * is the fine-tune's --filter-norm, which the fit stage applies.
     */
    FitOptions options(boolean calibration, double filterNorm) {
        FitOptions.Mode mode = fit == null ? (calibration ? FitOptions.Mode.OUTPUT : FitOptions.Mode.SVD)
                : FitOptions.Mode.parse(fit);
        if (!fitTarget.equals("sum") && !fitTarget.equals("conv")) {
            throw new AcdcException("--fit-target must be sum or conv, got '" + fitTarget + "'");
        }
        return new FitOptions(mode, fitIterations, fitTarget.equals("sum"), filterNorm);
    }
}
