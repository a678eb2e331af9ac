package dev.acdc.ir;

import java.util.Arrays;

/**
 * An immutable constant tensor (an initializer or an attribute value). Numeric data are decoded:
 * FLOAT as {@code float[]}, DOUBLE as {@code double[]}, integer and bool types as {@code long[]}.
 * Other types (strings, float16, ...) keep only their encoded form in {@link #source()}, which the ONNX
 * writer re-emits untouched.
 *
 * <p>The arrays handed out by {@link #floats()}, {@link #longs()} and {@link #doubles()} are the
 * tensor's own storage for speed: treat them as read-only and build a new tensor to change values.
 */
public final class Tensor {
    private final String name;
    private final DataType type;
    private final long[] shape;
    private final Object data;
    private final Object source;

    private Tensor(String name, DataType type, long[] shape, Object data, Object source) {
        this.name = name;
        this.type = type;
        this.shape = shape.clone();
        this.data = data;
        this.source = source;
    }

    public static Tensor ofFloats(String name, long[] shape, float[] values) {
        checkCount(name, shape, values.length);
        return new Tensor(name, DataType.FLOAT, shape, values, null);
    }

    /** A FLOAT16 tensor: {@code values} rounded to the nearest half (ties to even), held as those floats. */
    public static Tensor ofFloat16(String name, long[] shape, float[] values) {
        checkCount(name, shape, values.length);
        float[] r = new float[values.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = dev.acdc.util.Half.round(values[i]);
        }
        return new Tensor(name, DataType.FLOAT16, shape, r, null);
    }

    public static Tensor ofDoubles(String name, long[] shape, double[] values) {
        checkCount(name, shape, values.length);
        return new Tensor(name, DataType.DOUBLE, shape, values, null);
    }

    /** An integer tensor of the given integer type (INT64, INT32, ... or BOOL). */
    public static Tensor ofLongs(String name, DataType type, long[] shape, long[] values) {
        checkCount(name, shape, values.length);
        if (type == DataType.FLOAT || type == DataType.FLOAT16 || type == DataType.DOUBLE || !type.isNumeric()) {
            throw new IllegalArgumentException("not an integer type: " + type);
        }
        return new Tensor(name, type, shape, values, null);
    }

    public static Tensor ofLongs(String name, long[] shape, long[] values) {
        return ofLongs(name, DataType.INT64, shape, values);
    }

    /** A tensor as read from a file: {@code data} may be null for types acdc does not decode. */
    public static Tensor decoded(String name, DataType type, long[] shape, Object data, Object source) {
        if (data != null) {
            int n = java.lang.reflect.Array.getLength(data);
            checkCount(name, shape, n);
        }
        return new Tensor(name, type, shape, data, source);
    }

    private static void checkCount(String name, long[] shape, int n) {
        if (numel(shape) != n) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " holds " + numel(shape) + " values, got " + n);
        }
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public String name() {
        return name;
    }

    public DataType type() {
        return type;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long numel() {
        return numel(shape);
    }

    /** The encoded form this tensor was read from (opaque outside the ONNX package), or null. */
    public Object source() {
        return source;
    }

    public boolean isDecoded() {
        return data != null;
    }

    public boolean isFloat() {
        return type == DataType.FLOAT;
    }

    /** The values as floats: FLOAT's own storage, others converted. */
    public float[] floats() {
        if (data instanceof float[] f) {
            return f;
        }
        if (data instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        if (data instanceof long[] l) {
            float[] f = new float[l.length];
            for (int i = 0; i < l.length; i++) {
                f[i] = l[i];
            }
            return f;
        }
        throw new IllegalStateException("tensor '" + name + "' of type " + type + " has no numeric values");
    }

    /** The values as doubles (a copy, except for DOUBLE tensors). */
    public double[] doubles() {
        if (data instanceof double[] d) {
            return d;
        }
        if (data instanceof float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        if (data instanceof long[] l) {
            double[] d = new double[l.length];
            for (int i = 0; i < l.length; i++) {
                d[i] = l[i];
            }
            return d;
        }
        throw new IllegalStateException("tensor '" + name + "' of type " + type + " has no numeric values");
    }

    /** The values as longs: integer tensors' own storage, floats truncated toward zero. */
    public long[] longs() {
        if (data instanceof long[] l) {
            return l;
        }
        if (data instanceof float[] f) {
            long[] l = new long[f.length];
            for (int i = 0; i < f.length; i++) {
                l[i] = (long) f[i];
            }
            return l;
        }
        if (data instanceof double[] d) {
            long[] l = new long[d.length];
            for (int i = 0; i < d.length; i++) {
                l[i] = (long) d[i];
            }
            return l;
        }
        throw new IllegalStateException("tensor '" + name + "' of type " + type + " has no numeric values");
    }

    /** The same values under another name (keeps the encoded source only if the name is unchanged). */
    public Tensor withName(String newName) {
        return new Tensor(newName, type, shape, data, newName.equals(name) ? source : null);
    }

    /** The same values with another shape of equal size. */
    public Tensor reshaped(long[] newShape) {
        checkCount(name, newShape, (int) numel());
        return new Tensor(name, type, newShape, data, null);
    }

    /** Bytes the values take in raw form. */
    public long byteSize() {
        return numel() * Math.max(type.bytes(), 1);
    }

    @Override
    public String toString() {
        return name + ":" + type + Arrays.toString(shape);
    }
}
