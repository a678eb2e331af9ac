package dev.acdc.cli;

import java.io.PrintWriter;

/**
 * A progress bar when standard error (the stream it draws on) is a terminal; on anything else (a file,
 * a pipe, CI), a plain line every 10 %, never a carriage return.
 */
final class ProgressBar {
    private final PrintWriter err;
    private final String label;
    private final boolean tty;
    private final long start = System.nanoTime();
    private int lastDecile = -1;

    ProgressBar(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
        this.tty = stderrIsTerminal() && System.getenv("CI") == null;
    }

    /**
     * Whether this process's standard error is a terminal. On Linux, from what file descriptor 2 refers
     * to (a {@code /dev/pts/N} or {@code /dev/ttyN} device); elsewhere, Java only knows whether standard
     * input and output are, which is taken to mean standard error too.
     */
    static boolean stderrIsTerminal() {
        java.nio.file.Path fd = java.nio.file.Path.of("/proc/self/fd/2");
        if (java.nio.file.Files.isSymbolicLink(fd)) {
            try {
                return isTerminalDevice(java.nio.file.Files.readSymbolicLink(fd).toString());
            } catch (java.io.IOException | SecurityException e) {
                return false;
            }
        }
        return System.console() != null;
    }

    /** Whether a device path names a terminal. */
    static boolean isTerminalDevice(String path) {
        return path.startsWith("/dev/pts/") || path.matches("/dev/tty[0-9A-Za-z]*") || path.equals("/dev/console");
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

    /** Below this much elapsed time a rate (and an estimate from it) is noise. */
    static final double MIN_SECONDS_FOR_RATE = 0.5;

    void update(int done, int total) {
        Interrupts.checkpoint();
        double secs = (System.nanoTime() - start) / 1e9;
        double rate = done / Math.max(secs, 1e-9);
        double eta = rate > 0 ? (total - done) / rate : 0;
        // the first batch often finishes before the bar's clock has run: no rate until it means something
        boolean measured = secs >= MIN_SECONDS_FOR_RATE;
        if (tty) {
            int width = 30;
            int fill = (int) ((long) width * done / Math.max(1, total));
            err.printf("\r%s [%s%s] %3d%% %d/%d  %s  ETA %s ", label, "#".repeat(fill), " ".repeat(width - fill),
                    100L * done / Math.max(1, total), done, total,
                    measured ? String.format("%.0f img/s", rate) : "-- img/s", measured ? duration(eta) : "--");
            if (done >= total) {
                err.println();
            }
            err.flush();
        } else {
            int decile = (int) (10L * done / Math.max(1, total));
            if (decile != lastDecile) {
                lastDecile = decile;
                if (measured) {
                    err.printf("acdc: %s %d/%d (%.0f img/s)%n", label, done, total, rate);
                } else {
                    err.printf("acdc: %s %d/%d%n", label, done, total);
                }
                err.flush();
            }
        }
    }
}
