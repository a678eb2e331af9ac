package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.quantize.Quantizer;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.runtime.quantize.Quantization;

import picocli.CommandLine.Option;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The int8 options shared by {@code acdc quantize} and {@code compress --quantize}. */
@Setting(stage = Setting.Stage.QUANTIZE)
final class QuantizeOptions {
    /** The range method of the static mode when none is given: chosen on held-out training images (docs/quantize.md). */
    static final String DEFAULT_METHOD = "entropy";

    @Option(names = "--calibration-method", paramLabel = "minmax|percentile|entropy",
            description = "How the static int8 mode clips each activation: minmax (the observed range), percentile "
                    + "(--percentile of the values at each end) or entropy (the threshold whose 8-bit histogram is "
                    + "closest in KL divergence). Default: " + DEFAULT_METHOD + ".")
    String method;

    @Option(names = "--percentile", paramLabel = "P",
            description = "The percentile of --calibration-method percentile (default " + Quantization.DEFAULT_PERCENTILE + ").")
    Double percentile;

    /** The coefficient-scale granularity when none is given: chosen on held-out training images (docs/quantize.md). */
    static final String DEFAULT_COEFFICIENT_SCALES = "row";

    @Setting(stage = Setting.Stage.QUANTIZE, level = Setting.Level.RESEARCH)
    @Option(names = "--coefficient-scales", paramLabel = "row|atom",
            description = "The int8 scales of ACDC's shared coefficients: row (one per row, the finest; about one float "
                    + "per 6 int8) or atom (one per atom: a few floats per conv, a smaller file, a coarser rounding). "
                    + "Default: " + DEFAULT_COEFFICIENT_SCALES + ".")
    String coefficientScales;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC)
    @Option(names = "--keep-names",
            description = "Keep the exporter's names of internal values and nodes, and attributes that restate their "
                    + "operator's default. By default the written model's internal values get short names and its nodes "
                    + "none (inputs and outputs keep theirs; reports still name the layers as in the input): in a small "
                    + "int8 model the names take more bytes than the weights (ResNet-20 int8: 12.7 -> 4.9 %% of the "
                    + "original). Values are the same either way.")
    boolean keepNames;

    /** Accepted from scripts written before short names became the default; does nothing. */
    @Setting(stage = Setting.Stage.WRITE, recorded = false)
    @Option(names = "--compact-names", hidden = true)
    boolean compactNames;

    @Setting(stage = Setting.Stage.WRITE)
    @Option(names = "--local-functions", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Store each chain of nodes that repeats (a computed kernel's chain, an activation's "
                    + "QuantizeLinear/DequantizeLinear pair) once, as an ONNX model-local function (IR version 8), "
                    + "called where it occurred (default: on). ONNX Runtime inlines them when it loads the graph, "
                    + "before it optimises, so the session is the same (CPU and CUDA, Java and Python); "
                    + "--no-local-functions for a runtime that cannot read local functions.")
    boolean localFunctions;

    /** The file's names and functions as chosen. */
    dev.acdc.decompose.FileEncoding encoding() {
        return new dev.acdc.decompose.FileEncoding(!keepNames, localFunctions);
    }

    /** Whether any option of this group that only int8 uses was given (not the file's names and functions). */
    boolean anyInt8Given() {
        return method != null || exclude != null || percentile != null || coefficientScales != null;
    }

    @Option(names = "--quantize-exclude", paramLabel = "REGEX",
            description = "Keep the Conv/Gemm/MatMul (and Add/pool) nodes whose name matches float.")
    String exclude;

    Quantization.Request request(Quantizer.Mode mode) {
        double p = percentile == null ? Quantization.DEFAULT_PERCENTILE : percentile; // checked by the request
        if (mode == Quantizer.Mode.WEIGHTS && (method != null || percentile != null)) {
            throw new AcdcException((method != null ? "--calibration-method" : "--percentile")
                    + " applies to the static mode (int8) only");
        }
        if (percentile != null && !"percentile".equalsIgnoreCase(method)) {
            throw new AcdcException("--percentile applies with --calibration-method percentile only");
        }
        Pattern x = null;
        if (exclude != null) {
            try {
                x = Pattern.compile(exclude);
            } catch (PatternSyntaxException e) {
                throw new AcdcException("--quantize-exclude is not a regular expression: " + e.getDescription());
            }
        }
        return new Quantization.Request(mode, RangeStatistics.Method.parse(method == null ? DEFAULT_METHOD : method),
                p, x, Quantizer.CoefficientScales.parse(coefficientScales == null ? DEFAULT_COEFFICIENT_SCALES
                : coefficientScales), !keepNames, localFunctions);
    }
}
