package dev.acdc.report;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Objects;

/**
 * The report of {@code acdc quantize}: both models' bytes and parameters, what int8 did, the probe,
 * the validation against the float model, the verdict and its warnings, and the time it took.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QuantizeReport(int schemaVersion, String kind, ReportSchema.Provenance acdc, String command,
                             String input, String output, long inputBytes, long outputBytes, long inputParams,
                             long outputParams, QuantizationSection quantization, Verification verification,
                             ValidationSection validation, String verdict, List<String> warnings,
                             double seconds) implements Report {
    public static final String KIND = "quantize";

    public QuantizeReport {
        if (!KIND.equals(kind)) {
            throw new IllegalArgumentException("a quantize report has kind " + KIND + ", not " + kind);
        }
        Objects.requireNonNull(quantization, "quantization");
        Objects.requireNonNull(verification, "verification");
        Objects.requireNonNull(verdict, "verdict");
    }
}
