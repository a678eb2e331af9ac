package dev.acdc.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * What int8 did: the mode, how weights and (static mode) activations are stored and from which
 * calibration ranges, the nodes quantized and kept float, each layer's output error against the float
 * model, and, inside a compression, the float model it started from.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QuantizationSection(String mode, String activations, CalibrationSample calibration, List<Range> ranges,
                                  String weights, String exclude, List<String> quantized, List<String> keptFloat,
                                  List<String> notes, List<LayerError> layerErrors, Integer layerErrorImages,
                                  boolean compactNames, Long namesBytes,
                                  @JsonProperty("float") FloatModel floatModel) {
    /** An activation's observed range and the clipping range chosen from it. */
    public record Range(String tensor, double min, double max, double clipLow, double clipHigh) {
    }

    /** One quantized layer's output against the float model's (null: no error at all). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record LayerError(String layer, String value, Double relativeError, Double sqnrDb) {
        public LayerError {
            relativeError = Finite.of(relativeError);
            sqnrDb = Finite.of(sqnrDb);
        }
    }

    /** The float model before int8: its bytes, and both top-1 figures when it was validated too. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FloatModel(int bytes, int quantizedBytes, ValidationSection validation, Double top1,
                             Double quantizedTop1) {
    }

    public QuantizationSection withFloatModel(FloatModel f) {
        return new QuantizationSection(mode, activations, calibration, ranges, weights, exclude, quantized, keptFloat,
                notes, layerErrors, layerErrorImages, compactNames, namesBytes, f);
    }
}
