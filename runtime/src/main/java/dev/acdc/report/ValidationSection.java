package dev.acdc.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.acdc.runtime.ValidationResult;

/**
 * Original against candidate on a data set: top-1/top-5 of each (absent without labels), the drop in
 * points, the agreement of their predictions, the logit differences, and how long it took.
 */
public record ValidationSection(int samples, String provider, String data, PreprocessingInfo preprocessing,
                                @JsonInclude(JsonInclude.Include.NON_NULL) Double drop, Scores original,
                                Scores candidate, double agreement, double maxAbsDiff, double meanAbsDiff,
                                double seconds, double imagesPerSecond) {
    /** One model's accuracy: null where the data have no labels (top-5 also with fewer than 5 classes). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Scores(Double top1, Double top5) {
        public Scores {
            top1 = Finite.of(top1);
            top5 = Finite.of(top5);
        }
    }

    public ValidationSection {
        drop = Finite.of(drop);
    }

    public static ValidationSection of(ValidationResult r) {
        boolean top5 = r.labels() && !Double.isNaN(r.originalTop5());
        return new ValidationSection(r.samples(), r.provider(), r.data(), PreprocessingInfo.of(r.preprocessing()),
                r.labels() ? r.drop() : null,
                new Scores(r.labels() ? r.originalTop1() : null, top5 ? r.originalTop5() : null),
                new Scores(r.labels() ? r.candidateTop1() : null, top5 ? r.candidateTop5() : null),
                r.agreement(), r.maxAbsDiff(), r.meanAbsDiff(), r.seconds(), r.imagesPerSecond());
    }

    /** Whether both top-1 figures are known (the data have labels). */
    public boolean hasTop1() {
        return original != null && candidate != null && original.top1() != null && candidate.top1() != null;
    }
}
