package dev.acdc.report;

/** ONNX Runtime on the written model against SameDiff on the trained weights, on one probe batch. */
public record Consistency(long[] probeShape, double maxAbsLogitDiff) {
}
