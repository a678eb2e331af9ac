package dev.acdc.runtime;

import dev.acdc.data.Preprocessing;

/**
 * Original vs candidate on one data set: top-1/top-5 of each (NaN without labels; top-5 only with at
 * least 5 classes), the drop in top-1 points, prediction agreement, and logit differences.
 */
public record ValidationResult(int samples, String provider, String data, boolean labels, double originalTop1,
                               double originalTop5, double candidateTop1, double candidateTop5, double agreement,
                               double maxAbsDiff, double meanAbsDiff, double seconds, Preprocessing preprocessing) {

    /** Top-1 drop in percentage points (original − candidate). */
    public double drop() {
        return labels ? 100 * (originalTop1 - candidateTop1) : Double.NaN;
    }

    public double imagesPerSecond() {
        return samples / seconds;
    }
}
