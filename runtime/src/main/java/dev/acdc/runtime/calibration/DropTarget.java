package dev.acdc.runtime.calibration;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Refinement;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.runtime.OriginalAccuracy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code --target-drop PTS}: the smallest {@link SizeTarget size target} whose kept allocation's predicted
 * top-1 drop on the calibration images ({@link SizeTarget.Result#predictedDrop()}) is at most PTS points.
 * The fraction of the input's bytes is searched by bisection in log space between {@value #LOWEST} and
 * {@value #HIGHEST}: the highest end first (if even that misses the goal, nothing is compressed), then the
 * lowest, then at most {@value #STEPS} midpoints, stopping when the two ends are within
 * {@value #CLOSE_ENOUGH_PCT} % of each other. Each point is a whole {@code --target-size} plan (its
 * allocations compressed with the run's fit and run on the calibration images), so the search costs up
 * to {@code STEPS + 2} of them; every point tried is kept for the report.
 *
 * <p>What the prediction is: the drop of the model as the fit leaves it, before any fine-tune. A
 * fine-tune recovers most of it (docs/lab/results-log.md), so after one the search's answer is conservative: a
 * larger model than the goal needed. It assumes that a larger target never predicts a larger drop; where
 * the curve is not monotone the answer is a size that meets the goal, not necessarily the smallest.
 */
public final class DropTarget {
    static final double LOWEST = 0.02;
    static final double HIGHEST = 0.8;
    static final int STEPS = 6;
    static final double CLOSE_ENOUGH_PCT = 5;

    /** One size tried: its fraction, and its plan (null when no allocation reaches it, with why). */
    public record Step(double fraction, SizeTarget.Result plan, String failure) {
        /** Whether this size's predicted drop is at most {@code points}. */
        boolean meets(double points) {
            return plan != null && plan.predictedDrop() <= points;
        }

        /** "0.12 (131,373 bytes): predicted drop 3.1 points, kept floor 4 (agreement 91.0 %)". */
        public String line() {
            if (plan == null) {
                return String.format(Locale.ROOT, "%.4g: %s", fraction, failure);
            }
            return String.format(Locale.ROOT, "%.4g (%,d bytes): predicted drop %.2f points%s, kept %s", fraction,
                    plan.svdBytes(), plan.predictedDrop(), plan.predictedDropIsBound() ? " (bound: no labels)" : "",
                    plan.kept().line());
        }
    }

    /** The search's answer: the plan kept, at {@code fraction}; the goal; every size tried, in order. */
    public record Result(SizeTarget.Result plan, double fraction, double points, List<Step> steps) {
        public Result {
            steps = List.copyOf(steps);
        }

        /** The decision in one line. */
        public String summary() {
            return String.format(Locale.ROOT, "--target-drop %.2f: the smallest size tried whose predicted drop on "
                            + "the %s meets it is %.4g of the input (%,d bytes): predicted drop %.2f points%s, after %d "
                            + "size(s) tried", points, plan.judgedBy().equals("SVD fit") ? "calibration images (SVD fit)"
                            : "calibration images (output fit)", fraction, plan.svdBytes(), plan.predictedDrop(),
                    plan.predictedDropIsBound() ? " (the share of images that disagree with the original: no labels)"
                            : " (top-1 " + pct(plan.referenceTop1()) + " -> " + pct(plan.kept().top1()) + ")",
                    steps.size());
        }

        private static String pct(double f) {
            return String.format(Locale.ROOT, "%.1f %%", 100 * f);
        }
    }

    private DropTarget() {
    }

    /**
     * Searches the size for {@code model} (not changed), whose file has {@code inputBytes}, so that the
     * predicted drop is at most {@code points}; the other arguments are {@link SizeTarget#plan}'s.
     */
    public static Result search(Model model, long inputBytes, double points, Settings settings, CalibrationImages images,
                                int[] candidates, SizeTarget.Written fineTune, Refinement fit, Consumer<String> progress) {
        return search(model, inputBytes, points, settings, images, candidates, fineTune, fit, LOWEST, HIGHEST, progress);
    }

    /** As above, between the fractions {@code lowest} and {@code highest} of the input's bytes. */
    static Result search(Model model, long inputBytes, double points, Settings settings, CalibrationImages images,
                         int[] candidates, SizeTarget.Written fineTune, Refinement fit, double lowest, double highest,
                         Consumer<String> progress) {
        if (!(points >= 0 && points <= 100)) {
            throw new AcdcException("--target-drop must be between 0 and 100 points, got " + points);
        }
        List<Step> steps = new ArrayList<>();
        java.util.function.DoubleFunction<Step> at = f -> {
            progress.accept(String.format(Locale.ROOT, "target drop: trying %.4g of the input's bytes", f));
            Step s;
            try {
                // of the plan's own lines only each allocation's evaluation, the slow part under the output fit
                s = new Step(f, SizeTarget.plan(model, inputBytes, f, settings, images, candidates, fineTune, fit,
                        x -> {
                            if (x.endsWith(SizeTarget.EVALUATING)) {
                                progress.accept("target drop: " + x);
                            }
                        }), null);
            } catch (AcdcException e) {
                s = new Step(f, null, e.getMessage());
            }
            steps.add(s);
            progress.accept("target drop: " + s.line());
            return s;
        };
        Step hi = at.apply(highest);
        String original = hi.plan() == null ? null
                : OriginalAccuracy.warning(hi.plan().referenceTop1(), images.count(), "calibration");
        if (original != null) {
            progress.accept("warning: " + original);
        }
        if (!hi.meets(points)) {
            Step best = hi;
            throw new AcdcException(AcdcException.CHECK_FAILED, String.format(Locale.ROOT, "--target-drop %.2f: "
                    + "even at %.0f %% of the input's bytes the predicted drop on the %d calibration images is %s; "
                    + "nothing written. Allow a larger drop, or fine-tune (--train-data SPEC) with --target-size",
                    points, 100 * highest, images.count(), best.plan() == null ? "unknown (" + best.failure() + ")"
                            : String.format(Locale.ROOT, "%.2f points", best.plan().predictedDrop())), null);
        }
        Step lo = at.apply(lowest);
        if (lo.meets(points)) {
            return new Result(lo.plan(), lowest, points, steps);
        }
        for (int i = 0; i < STEPS && hi.fraction() / lo.fraction() > 1 + CLOSE_ENOUGH_PCT / 100; i++) {
            Step mid = at.apply(Math.sqrt(lo.fraction() * hi.fraction()));
            if (mid.meets(points)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return new Result(hi.plan(), hi.fraction(), points, steps);
    }
}
