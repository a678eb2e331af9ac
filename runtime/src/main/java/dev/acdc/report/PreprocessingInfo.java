package dev.acdc.report;

import dev.acdc.data.Preprocessing;

/** How pixels became model inputs: {@code (pixel·scale − mean[c]) / std[c]}, laid out {@code layout}. */
public record PreprocessingInfo(double scale, double[] mean, double[] std, String layout) {
    public static PreprocessingInfo of(Preprocessing p) {
        return p == null ? null : new PreprocessingInfo(p.scale(), p.mean(), p.std(), p.nhwc() ? "nhwc" : "nchw");
    }
}
