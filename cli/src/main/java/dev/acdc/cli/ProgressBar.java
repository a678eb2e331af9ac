package dev.acdc.cli;

import java.io.PrintWriter;

/** A progress bar on a terminal; on anything else, a plain line every 10 %. */
final class ProgressBar {
    private final PrintWriter err;
    private final String label;
    private final boolean tty;
    private final long start = System.nanoTime();
    private int lastDecile = -1;

    ProgressBar(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
        this.tty = System.console() != null && System.getenv("CI") == null;
    }

    /** A duration for people: {@code 42s}, {@code 3m05s}, {@code 1h14m}. */
    static String duration(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    void update(int done, int total) {
        double secs = (System.nanoTime() - start) / 1e9;
        double rate = done / Math.max(secs, 1e-9);
        double eta = rate > 0 ? (total - done) / rate : 0;
        if (tty) {
            int width = 30;
            int fill = (int) ((long) width * done / Math.max(1, total));
            err.printf("\r%s [%s%s] %3d%% %d/%d  %.0f img/s  ETA %s ", label, "#".repeat(fill), " ".repeat(width - fill),
                    100L * done / Math.max(1, total), done, total, rate, duration(eta));
            if (done >= total) {
                err.println();
            }
            err.flush();
        } else {
            int decile = (int) (10L * done / Math.max(1, total));
            if (decile != lastDecile) {
                lastDecile = decile;
                err.printf("acdc: %s %d/%d (%.0f img/s)%n", label, done, total, rate);
                err.flush();
            }
        }
    }
}
