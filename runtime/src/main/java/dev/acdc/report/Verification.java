package dev.acdc.report;

import dev.acdc.runtime.Probe;

/**
 * The written model against its input in ONNX Runtime on one random probe batch: the output
 * differences, the output scale and the top-1 agreement, with a note on what they mean.
 */
public record Verification(long[] inputShape, double maxAbsDiff, double meanAbsDiff, double outputScale,
                           double top1Agreement, String runtime, String note) {
    public static Verification of(Probe.Comparison p, String note) {
        return new Verification(p.inputShape(), p.maxAbsDiff(), p.meanAbsDiff(), p.outputScale(), p.agreement(),
                "onnxruntime (CPU)", note);
    }
}
