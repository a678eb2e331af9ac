package dev.acdc.ir;

import java.util.List;

/**
 * A typed value declaration (graph input, output or value_info). {@code dims} is null when the shape
 * is unknown; each dim is a size, a symbol, or unknown.
 */
public record ValueInfo(String name, DataType elemType, List<Dim> dims, Object source) {

    /** One dimension: {@code value >= 0} when known, else {@code param} (possibly null) names it. */
    public record Dim(long value, String param) {
        public static Dim of(long v) {
            return new Dim(v, null);
        }

        public static Dim symbol(String p) {
            return new Dim(-1, p);
        }

        public boolean known() {
            return value >= 0;
        }

        @Override
        public String toString() {
            return known() ? Long.toString(value) : (param == null || param.isEmpty() ? "?" : param);
        }
    }

    public static ValueInfo tensor(String name, DataType type, long... shape) {
        List<Dim> dims = new java.util.ArrayList<>();
        for (long d : shape) {
            dims.add(d < 0 ? Dim.symbol("N") : Dim.of(d));
        }
        return new ValueInfo(name, type, dims, null);
    }

    public ValueInfo withName(String n) {
        return new ValueInfo(n, elemType, dims, null);
    }

    /** The shape with -1 for unknown or symbolic dims, or null if the rank is unknown. */
    public long[] shape() {
        if (dims == null) {
            return null;
        }
        long[] s = new long[dims.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = dims.get(i).value();
        }
        return s;
    }

    public String shapeString() {
        return dims == null ? "?" : dims.toString().replace(" ", "");
    }
}
