package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.quantize.Quantizer;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.runtime.quantize.Quantization;
import picocli.CommandLine.Option;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The int8 options shared by {@code acdc quantize} and {@code compress --quantize}. */
final class QuantizeOptions {
    /** The range method of the static mode when none is given: chosen on held-out training images (docs/quantize.md). */
    static final String DEFAULT_METHOD = "entropy";

    @Option(names = "--calibration-method", paramLabel = "minmax|percentile|entropy",
            description = "How the static int8 mode clips each activation: minmax (the observed range), percentile "
                    + "(--percentile of the values at each end) or entropy (the threshold whose 8-bit histogram is "
                    + "closest in KL divergence). Default: " + DEFAULT_METHOD + ".")
    String method;

    @Option(names = "--percentile", paramLabel = "P", defaultValue = "" + Quantization.DEFAULT_PERCENTILE,
            description = "The percentile of --calibration-method percentile (default ${DEFAULT-VALUE}).")
    double percentile;

    @Option(names = "--quantize-exclude", paramLabel = "REGEX",
            description = "Keep the Conv/Gemm/MatMul (and Add/pool) nodes whose name matches float.")
    String exclude;

    Quantization.Request request(Quantizer.Mode mode) {
        if (!(percentile > 50 && percentile <= 100)) {
            throw new AcdcException("--percentile must be above 50 and at most 100, got " + percentile);
        }
        if (mode == Quantizer.Mode.WEIGHTS && method != null) {
            throw new AcdcException("--calibration-method applies to the static mode (int8) only");
        }
        Pattern p = null;
        if (exclude != null) {
            try {
                p = Pattern.compile(exclude);
            } catch (PatternSyntaxException e) {
                throw new AcdcException("--quantize-exclude is not a regular expression: " + e.getDescription());
            }
        }
        return new Quantization.Request(mode, RangeStatistics.Method.parse(method == null ? DEFAULT_METHOD : method),
                percentile, p);
    }
}
