package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.runtime.calibration.OutputFitter;

import java.util.Locale;

/**
 * The fit stage's options ({@code fit.*} in a recipe): how the factors are fitted ({@code mode}), the output
 * fit's alternating least-squares {@code iterations} per set at most, whether a conv feeding a residual Add
 * matches the sum ({@code matchSum}), and {@code filterNorm}: with a fine-tune in training-mode
 * BatchNormalization, every conv's output filters are scaled to this L2 norm before the fit (0: off; the
 * training BNs carry the scale). Checked here, once.
 */
public record FitOptions(Mode mode, int iterations, boolean matchSum, double filterNorm) {
    /** Truncated SVD of the weights, or to the original's outputs on calibration images. */
    public enum Mode {
        SVD, OUTPUT;

        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "svd" -> SVD;
                case "output" -> OUTPUT;
                default -> throw new AcdcException("--fit must be svd or output, got '" + s + "'");
            };
        }
    }

    /** The filters' norm before a fine-tune in training-mode BatchNormalization, by default (docs/finetune.md). */
    public static final double FILTER_NORM = 1;

    public FitOptions {
        if (mode == null) {
            throw new IllegalArgumentException("the fit's mode is required");
        }
        if (iterations < 0 || iterations > 10000) {
            throw new AcdcException("--fit-iterations must be between 0 and 10000, got " + iterations);
        }
        if (!(filterNorm >= 0 && filterNorm < Double.POSITIVE_INFINITY)) {
            throw new AcdcException("--filter-norm must be a finite norm, 0 (off) or more, got " + filterNorm);
        }
    }

    /** The command's defaults for {@code mode}: {@link OutputFitter#ITERATIONS} iterations, sums matched, norm {@value #FILTER_NORM}. */
    public static FitOptions of(Mode mode) {
        return new FitOptions(mode, OutputFitter.ITERATIONS, true, FILTER_NORM);
    }

    public FitOptions withMode(Mode m) {
        return new FitOptions(m, iterations, matchSum, filterNorm);
    }
}
