package dev.acdc.ir;

import java.util.Arrays;
import java.util.List;

/**
 * A node attribute. The common kinds are typed; kinds acdc does not interpret (graphs, sparse
 * tensors, type protos) are kept as {@link Kind#OPAQUE} with their encoded form in {@link #source()}.
 */
public final class Attribute {
    public enum Kind { FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS, OPAQUE }

    private final String name;
    private final Kind kind;
    private final Object value;
    private final Object source;

    private Attribute(String name, Kind kind, Object value, Object source) {
        this.name = name;
        this.kind = kind;
        this.value = value;
        this.source = source;
    }

    public static Attribute ofInt(String name, long v) {
        return new Attribute(name, Kind.INT, v, null);
    }

    public static Attribute ofFloat(String name, float v) {
        return new Attribute(name, Kind.FLOAT, v, null);
    }

    public static Attribute ofString(String name, String v) {
        return new Attribute(name, Kind.STRING, v, null);
    }

    public static Attribute ofInts(String name, long... v) {
        return new Attribute(name, Kind.INTS, v.clone(), null);
    }

    public static Attribute ofFloats(String name, float... v) {
        return new Attribute(name, Kind.FLOATS, v.clone(), null);
    }

    public static Attribute ofStrings(String name, List<String> v) {
        return new Attribute(name, Kind.STRINGS, List.copyOf(v), null);
    }

    public static Attribute ofTensor(String name, Tensor t) {
        return new Attribute(name, Kind.TENSOR, t, null);
    }

    /** An attribute as read from a file, with its encoded form kept for a lossless write. */
    public static Attribute decoded(String name, Kind kind, Object value, Object source) {
        return new Attribute(name, kind, value, source);
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public Object source() {
        return source;
    }

    public long asInt() {
        expect(Kind.INT);
        return (Long) value;
    }

    public float asFloat() {
        expect(Kind.FLOAT);
        return (Float) value;
    }

    public String asString() {
        expect(Kind.STRING);
        return (String) value;
    }

    public long[] asInts() {
        expect(Kind.INTS);
        return ((long[]) value).clone();
    }

    public float[] asFloats() {
        expect(Kind.FLOATS);
        return ((float[]) value).clone();
    }

    @SuppressWarnings("unchecked")
    public List<String> asStrings() {
        expect(Kind.STRINGS);
        return (List<String>) value;
    }

    public Tensor asTensor() {
        expect(Kind.TENSOR);
        return (Tensor) value;
    }

    private void expect(Kind k) {
        if (kind != k) {
            throw new IllegalStateException("attribute '" + name + "' is " + kind + ", not " + k);
        }
    }

    @Override
    public String toString() {
        return name + "=" + switch (kind) {
            case INTS -> Arrays.toString((long[]) value);
            case FLOATS -> Arrays.toString((float[]) value);
            case OPAQUE -> "<opaque>";
            default -> String.valueOf(value);
        };
    }
}
