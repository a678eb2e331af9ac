package dev.acdc.cli;

/**
 * The verdict and warning labels coloured on a terminal (green verdict, yellow warnings), plain in logs,
 * pipes and tests. On only where the launcher saw a terminal ({@code ACDC_COLOR=1}) and {@code NO_COLOR}
 * is not set (no-color.org).
 */
final class Colors {
    private static final String GREEN = "\u001b[32m";
    private static final String YELLOW = "\u001b[33m";
    private static final String RESET = "\u001b[0m";

    private static volatile boolean on;

    private Colors() {
    }

    /** Whether labels are coloured, from the launcher's {@code ACDC_COLOR} and the user's {@code NO_COLOR}. */
    static void init(String acdcColor, String noColor) {
        on = "1".equals(acdcColor) && (noColor == null || noColor.isEmpty());
    }

    static void set(boolean v) {
        on = v;
    }

    /** "verdict: LINE", its label green (yellow when warnings follow). */
    static String verdict(String line, boolean warned) {
        return label("verdict:", warned ? YELLOW : GREEN) + " " + line;
    }

    /** "warning: TEXT", its label yellow. */
    static String warning(String text) {
        return label("warning:", YELLOW) + " " + text;
    }

    private static String label(String label, String color) {
        return on ? color + label + RESET : label;
    }
}
