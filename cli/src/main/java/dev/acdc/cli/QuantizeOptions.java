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

    @Option(names = "--percentile", paramLabel = "P",
            description = "The percentile of --calibration-method percentile (default " + Quantization.DEFAULT_PERCENTILE + ").")
    Double percentile;

    /** The coefficient-scale granularity when none is given: chosen on held-out training images (docs/quantize.md). */
    static final String DEFAULT_COEFFICIENT_SCALES = "row";

    @Option(names = "--coefficient-scales", paramLabel = "row|atom",
            description = "The int8 scales of ACDC's shared coefficients: row (one per row, the finest; about one float "
                    + "per 6 int8) or atom (one per atom: a few floats per conv, a smaller file, a coarser rounding). "
                    + "Default: " + DEFAULT_COEFFICIENT_SCALES + ".")
    String coefficientScales;

    @Option(names = "--compact-names",
            description = "Give the written model's internal values short names and its nodes none (the inputs and "
                    + "outputs keep theirs), and leave out attributes that restate their operator's default (a Conv's group=1, "
                    + "unit strides): in a small int8 model the exporter's names take more bytes than the weights. "
                    + "compress takes it without --quantize too (the float model). Reports still name the layers as "
                    + "in the input.")
    boolean compactNames;

    @Option(names = "--local-functions",
            description = "Store each chain of nodes that repeats (a computed kernel's quantization chain, an "
                    + "activation's QuantizeLinear/DequantizeLinear pair) once, as an ONNX model-local function "
                    + "(IR version 8), called where it occurred. The graph is the same once inlined, which ONNX Runtime "
                    + "does at load before it fuses the int8 kernels; a runtime that cannot read local functions "
                    + "cannot load the file. With --compact-names, the smallest file; compress takes both without "
                    + "--quantize too.")
    boolean localFunctions;

    /** Whether any option of this group that only int8 uses was given (not the file's names and functions). */
    boolean anyInt8Given() {
        return method != null || exclude != null || percentile != null || coefficientScales != null;
    }

    @Option(names = "--quantize-exclude", paramLabel = "REGEX",
            description = "Keep the Conv/Gemm/MatMul (and Add/pool) nodes whose name matches float.")
    String exclude;

    Quantization.Request request(Quantizer.Mode mode) {
        double p = percentile == null ? Quantization.DEFAULT_PERCENTILE : percentile;
        if (!(p > 50 && p <= 100)) {
            throw new AcdcException("--percentile must be above 50 and at most 100, got " + p);
        }
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
                : coefficientScales), compactNames, localFunctions);
    }
}
