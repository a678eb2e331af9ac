package dev.acdc.report;

import dev.acdc.runtime.Probe;

/**
 * The written model against its input in ONNX Runtime on one random probe batch: the output
 * differences, the output scale and the top-1 agreement, with a note on what they mean; {@code outputs} has
 * every float output's own figures (several for a detector or segmenter; null in a report written before them).
 */
public record Verification(long[] inputShape, double maxAbsDiff, double meanAbsDiff, double outputScale,
                           double top1Agreement, String runtime, String note, java.util.List<Probe.OutputDiff> outputs) {
    public static Verification of(Probe.Comparison p, String note) {
        return new Verification(p.inputShape(), p.maxAbsDiff(), p.meanAbsDiff(), p.outputScale(), p.agreement(),
                "onnxruntime (CPU)", note, p.outputs());
    }
}
