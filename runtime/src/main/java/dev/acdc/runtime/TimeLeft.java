package dev.acdc.runtime;

import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The time left of a stage whose work comes in units of known relative cost (a sensitivity sweep's network
 * evaluations, a recovery segment's steps weighted by its multiply-adds): extrapolated at the rate measured
 * so far, and said only once a few seconds have been measured.
 */
public final class TimeLeft {
    /** Seconds measured before an estimate is given. */
    static final double SETTLE_SECONDS = 5;

    private final double total;
    private final LongSupplier nanos;
    private final long start;

    public TimeLeft(double totalWork) {
        this(totalWork, System::nanoTime);
    }

    TimeLeft(double totalWork, LongSupplier nanos) {
        this.total = totalWork;
        this.nanos = nanos;
        this.start = nanos.getAsLong();
    }

    /** Seconds left after {@code done} units of work, or NaN before an estimate is sound. */
    public double secondsLeft(double done) {
        double elapsed = (nanos.getAsLong() - start) / 1e9;
        if (elapsed < SETTLE_SECONDS || done <= 0 || total <= 0) {
            return Double.NaN;
        }
        return Math.max(0, total - done) * elapsed / done;
    }

    /** ", ~40 s left" or ", ~12 min left" for a progress line, or nothing yet. */
    public String after(double done) {
        double s = secondsLeft(done);
        return Double.isNaN(s) ? "" : ", ~" + format(s) + " left";
    }

    /** "40 s" under a minute and a half, else "12 min". */
    public static String format(double seconds) {
        return seconds < 90 ? String.format(Locale.ROOT, "%.0f s", Math.max(1, seconds))
                : String.format(Locale.ROOT, "%.0f min", seconds / 60);
    }
}
