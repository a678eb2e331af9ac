package dev.acdc.cli;

import dev.acdc.AcdcException;

import picocli.CommandLine.Option;

/** Options every command shares. */
final class Options {
    @Setting(stage = Setting.Stage.GENERAL, level = Setting.Level.BASIC, recorded = false)
    @Option(names = "--verbose", description = "Print stack traces and more detail on errors.")
    boolean verbose;

    @Setting(stage = Setting.Stage.GENERAL, recorded = false)
    @Option(names = "--wide", description = "Print lines as long as they come (the full per-conv table, unwrapped notes) "
            + "instead of fitting them to 100 columns.")
    boolean wide;

    private Options() {
    }

    /** "1,3,32,32" → {1,3,32,32}; "N" or "?" → -1 (symbolic). */
    /** A count option's value: a whole number of 0 or more, else one line naming the option. */
    static int count(String option, String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new AcdcException(option + " must be auto or a whole number of 0 or more, got '" + value + "'");
    }

    static long[] parseShape(String s) {
        if (s == null) {
            return null;
        }
        String[] parts = s.split("[,x×]");
        long[] shape = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                shape[i] = p.equals("N") || p.equals("?") ? -1 : Long.parseLong(p);
                if (shape[i] == -1 && !(p.equals("N") || p.equals("?"))) {
                    shape[i] = -2; // a literal -1 is refused below: symbolic dims are written N or ?
                }
            } catch (NumberFormatException e) {
                throw new AcdcException("--input-shape '" + s + "': '" + p + "' is not a number");
            }
            if (shape[i] == 0 || shape[i] < -1) {
                throw new AcdcException("--input-shape '" + s + "': dims must be positive (N or ? for a symbolic one)");
            }
        }
        return shape;
    }
}
