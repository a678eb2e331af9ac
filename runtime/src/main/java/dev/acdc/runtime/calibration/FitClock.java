package dev.acdc.runtime.calibration;

import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.SharingSet;

import java.util.List;

/**
 * The output fit's time left, for its progress lines. Its two costs grow differently — the calibration
 * statistics with the images and the output positions (passes, patch products: positions·d·(d + O) per conv),
 * the solves with the im2col width only (d²·(O/64 + 1)) — so each is extrapolated at the rate measured so far
 * on its own weight, and the two are added.
 */
final class FitClock {
    private double statsWeightLeft;
    private double solveWeightLeft;
    private double statsWeightDone;
    private double solveWeightDone;
    private double statsSeconds;
    private double solveSeconds;

    FitClock(List<SharingSet> sets) {
        for (SharingSet s : sets) {
            statsWeightLeft += statsWeight(s);
            solveWeightLeft += solveWeight(s);
        }
    }

    /** A set the fit skips. */
    void skip(SharingSet s) {
        statsWeightLeft -= statsWeight(s);
        solveWeightLeft -= solveWeight(s);
    }

    /** A set fitted in the given seconds of statistics and of solves. */
    void done(SharingSet s, double stats, double solve) {
        double ws = statsWeight(s);
        double wv = solveWeight(s);
        statsWeightLeft -= ws;
        solveWeightLeft -= wv;
        statsWeightDone += ws;
        solveWeightDone += wv;
        statsSeconds += stats;
        solveSeconds += solve;
    }

    /** Seconds left, or NaN before five seconds have been measured. */
    double secondsLeft() {
        if (statsSeconds + solveSeconds < 5 || statsWeightDone <= 0 || solveWeightDone <= 0) {
            return Double.NaN;
        }
        return Math.max(0, statsWeightLeft) * statsSeconds / statsWeightDone
                + Math.max(0, solveWeightLeft) * solveSeconds / solveWeightDone;
    }

    /** ", ~N min left" for a progress line, or nothing yet. */
    String left() {
        double s = secondsLeft();
        if (Double.isNaN(s)) {
            return "";
        }
        return ", ~" + dev.acdc.runtime.TimeLeft.format(s) + " left";
    }

    static double statsWeight(SharingSet s) {
        double w = 0;
        for (ConvPlan cp : s.members()) {
            double d = width(cp);
            long[] o = cp.outShape();
            double positions = o.length >= 3 ? (double) o[1] * o[2] : 1;
            w += positions * d * (d + cp.kernel()[0]);
        }
        return w;
    }

    static double solveWeight(SharingSet s) {
        double w = 0;
        for (ConvPlan cp : s.members()) {
            double d = width(cp);
            w += d * d * (cp.kernel()[0] / 64.0 + 1);
        }
        return w;
    }

    /** The im2col width: input channels × kernel taps. */
    private static double width(ConvPlan cp) {
        long[] k = cp.kernel();
        double d = k[1];
        for (int i = 2; i < k.length; i++) {
            d *= k[i];
        }
        return d;
    }
}
