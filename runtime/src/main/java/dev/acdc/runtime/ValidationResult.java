package dev.acdc.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Original vs candidate on one data set: top-1/top-5 of each (NaN without labels; top-5 only with at
 * least 5 classes), the drop in top-1 points, prediction agreement, and logit differences.
 */
public record ValidationResult(int samples, String provider, String data, boolean labels, double originalTop1,
                               double originalTop5, double candidateTop1, double candidateTop5, double agreement,
                               double maxAbsDiff, double meanAbsDiff, double seconds, Map<String, Object> preprocessing) {

    /** Top-1 drop in percentage points (original − candidate). */
    public double drop() {
        return labels ? 100 * (originalTop1 - candidateTop1) : Double.NaN;
    }

    public double imagesPerSecond() {
        return samples / seconds;
    }

    public Map<String, Object> json() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("samples", samples);
        j.put("provider", provider);
        j.put("data", data);
        j.put("preprocessing", preprocessing);
        Map<String, Object> o = new LinkedHashMap<>();
        Map<String, Object> c = new LinkedHashMap<>();
        if (labels) {
            o.put("top1", originalTop1);
            c.put("top1", candidateTop1);
            if (!Double.isNaN(originalTop5)) {
                o.put("top5", originalTop5);
                c.put("top5", candidateTop5);
            }
            j.put("drop", drop());
        }
        j.put("original", o);
        j.put("candidate", c);
        j.put("agreement", agreement);
        j.put("maxAbsDiff", maxAbsDiff);
        j.put("meanAbsDiff", meanAbsDiff);
        j.put("seconds", seconds);
        j.put("imagesPerSecond", imagesPerSecond());
        return j;
    }
}
