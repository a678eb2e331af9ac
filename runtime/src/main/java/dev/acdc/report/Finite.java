package dev.acdc.report;

/** A report's numbers are finite or absent: NaN and infinities become null, as the JSON writes them. */
final class Finite {
    private Finite() {
    }

    static Double of(double v) {
        return Double.isFinite(v) ? v : null;
    }

    static Double of(Double v) {
        return v == null ? null : of(v.doubleValue());
    }

    /** {@code format} of {@code v}, or "-" when there is no value. */
    static String format(String format, Double v) {
        return v == null ? "-" : String.format(format, v);
    }
}
