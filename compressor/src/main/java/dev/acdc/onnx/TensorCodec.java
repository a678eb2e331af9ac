package dev.acdc.onnx;

import com.google.protobuf.ByteString;
import dev.acdc.AcdcException;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** TensorProto ↔ {@link Tensor}: raw_data, typed fields and external data files. */
final class TensorCodec {
    /** Largest tensor acdc will decode (elements): Java arrays are int-indexed. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private TensorCodec() {
    }

    /**
     * Decodes a tensor. External data are read from {@code baseDir} (the model's folder) and inlined
     * into the kept source, so a later save is self-contained.
     */
    static Tensor decode(TensorProto p, Path baseDir, String what) {
        String name = p.getName();
        String label = name.isEmpty() ? what : "'" + name + "'";
        DataType type = DataType.of(p.getDataType());
        long[] shape = new long[p.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = p.getDims(i);
            if (shape[i] < 0) {
                throw new AcdcException("tensor " + label + " has a negative dimension " + shape[i]);
            }
        }
        long n;
        try {
            n = Tensor.numel(shape);
        } catch (ArithmeticException e) {
            throw new AcdcException("tensor " + label + " declares a shape too large to hold");
        }
        if (p.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            p = inlineExternal(p, baseDir, label);
        }
        if (!type.isNumeric()) {
            return Tensor.decoded(name, type, shape, null, p);
        }
        if (n > MAX_ELEMENTS) {
            throw new AcdcException("tensor " + label + " has " + n + " elements, more than acdc can hold");
        }
        int count = (int) n;
        Object data;
        if (p.hasRawData()) {
            ByteBuffer raw = p.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            long need = n * type.bytes();
            if (raw.remaining() != need) {
                throw new AcdcException("tensor " + label + ": raw_data holds " + raw.remaining() + " bytes but shape "
                        + java.util.Arrays.toString(shape) + " of " + type + " needs " + need);
            }
            data = fromRaw(raw, type, count);
        } else {
            data = fromTyped(p, type, count, label);
        }
        return Tensor.decoded(name, type, shape, data, p);
    }

    private static Object fromRaw(ByteBuffer b, DataType type, int n) {
        switch (type) {
            case FLOAT: {
                float[] f = new float[n];
                b.asFloatBuffer().get(f);
                return f;
            }
            case DOUBLE: {
                double[] d = new double[n];
                b.asDoubleBuffer().get(d);
                return d;
            }
            case FLOAT16: { // held as the floats the halves are (exact), written back as halves
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = dev.acdc.util.Half.toFloat(b.getShort());
                }
                return f;
            }
            case INT64: {
                long[] l = new long[n];
                b.asLongBuffer().get(l);
                return l;
            }
            case INT32: {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.getInt();
                }
                return l;
            }
            case INT16: {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.getShort();
                }
                return l;
            }
            case UINT16: {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.getShort() & 0xffff;
                }
                return l;
            }
            case INT8: {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.get();
                }
                return l;
            }
            case UINT8:
            case BOOL: {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.get() & 0xff;
                }
                return l;
            }
            default:
                throw new IllegalStateException(type.toString());
        }
    }

    private static Object fromTyped(TensorProto p, DataType type, int n, String label) {
        int have;
        Object data;
        switch (type) {
            case FLOAT: {
                have = p.getFloatDataCount();
                float[] f = new float[Math.min(have, n)];
                for (int i = 0; i < f.length; i++) {
                    f[i] = p.getFloatData(i);
                }
                data = f;
                break;
            }
            case DOUBLE: {
                have = p.getDoubleDataCount();
                double[] d = new double[Math.min(have, n)];
                for (int i = 0; i < d.length; i++) {
                    d[i] = p.getDoubleData(i);
                }
                data = d;
                break;
            }
            case INT64: {
                have = p.getInt64DataCount();
                long[] l = new long[Math.min(have, n)];
                for (int i = 0; i < l.length; i++) {
                    l[i] = p.getInt64Data(i);
                }
                data = l;
                break;
            }
            case FLOAT16: { // int32_data holds each half's 16 bits
                have = p.getInt32DataCount();
                float[] f = new float[Math.min(have, n)];
                for (int i = 0; i < f.length; i++) {
                    f[i] = dev.acdc.util.Half.toFloat((short) p.getInt32Data(i));
                }
                data = f;
                break;
            }
            default: {
                have = p.getInt32DataCount();
                long[] l = new long[Math.min(have, n)];
                for (int i = 0; i < l.length; i++) {
                    l[i] = p.getInt32Data(i);
                }
                data = l;
            }
        }
        if (have != n) {
            throw new AcdcException("tensor " + label + " declares " + n + " values but holds " + have);
        }
        return data;
    }

    private static TensorProto inlineExternal(TensorProto p, Path baseDir, String label) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : p.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> { }
                }
            } catch (NumberFormatException ex) {
                throw new AcdcException("tensor " + label + ": external data " + e.getKey() + " '" + e.getValue()
                        + "' is not a number");
            }
        }
        if (location == null || location.isEmpty()) {
            throw new AcdcException("tensor " + label + " is stored externally but names no location");
        }
        if (baseDir == null) {
            throw new AcdcException("tensor " + label + " is stored in external file '" + location
                    + "' but the model was not read from a folder");
        }
        Path rel = Path.of(location);
        if (rel.isAbsolute() || location.startsWith("/") || location.startsWith("\\")) {
            throw new AcdcException("tensor " + label + ": external data location '" + location
                    + "' is absolute; only files inside the model's folder are read");
        }
        for (Path part : rel) {
            if (part.toString().equals("..")) {
                throw new AcdcException("tensor " + label + ": external data location '" + location
                        + "' leaves the model's folder");
            }
        }
        Path file = baseDir.resolve(rel).normalize();
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.exists(file)) {
            throw new AcdcException("tensor " + label + ": external data file '" + location + "' is missing (looked in "
                    + baseDir + ")");
        }
        try {
            Path realBase = baseDir.toRealPath();
            Path real = file.toRealPath();
            if (!real.startsWith(realBase)) {
                throw new AcdcException("tensor " + label + ": external data file '" + location
                        + "' resolves outside the model's folder");
            }
            if (!Files.isRegularFile(real)) {
                throw new AcdcException("tensor " + label + ": external data '" + location + "' is not a file");
            }
            long size = Files.size(real);
            if (offset < 0 || offset > size) {
                throw new AcdcException("tensor " + label + ": external data offset " + offset + " is past the end of '"
                        + location + "' (" + size + " bytes)");
            }
            if (length < 0) {
                length = size - offset;
            }
            if (offset + length > size) {
                throw new AcdcException("tensor " + label + ": external data wants " + length + " bytes at offset "
                        + offset + " but '" + location + "' has " + size);
            }
            if (length > Integer.MAX_VALUE - 8) {
                throw new AcdcException("tensor " + label + ": external data of " + length + " bytes is too large");
            }
            byte[] bytes = new byte[(int) length];
            try (RandomAccessFile f = new RandomAccessFile(real.toFile(), "r")) {
                f.seek(offset);
                f.readFully(bytes);
            }
            return p.toBuilder().clearExternalData().clearDataLocation().setRawData(ByteString.copyFrom(bytes)).build();
        } catch (IOException e) {
            throw new AcdcException("tensor " + label + ": cannot read external data '" + location + "': " + e.getMessage());
        }
    }

    /** Encodes a tensor: its kept source when unchanged, else raw_data little-endian. */
    static TensorProto encode(Tensor t) {
        if (t.source() instanceof TensorProto p && p.getName().equals(t.name())) {
            return p;
        }
        TensorProto.Builder b = TensorProto.newBuilder().setName(t.name()).setDataType(t.type().code());
        for (long d : t.shape()) {
            b.addDims(d);
        }
        if (!t.isDecoded()) {
            if (t.source() instanceof TensorProto p) {
                return p.toBuilder().setName(t.name()).build();
            }
            throw new IllegalStateException("tensor " + t.name() + " has neither values nor source");
        }
        int n = (int) t.numel();
        ByteBuffer buf = ByteBuffer.allocate(n * t.type().bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.type()) {
            case FLOAT -> buf.asFloatBuffer().put(t.floats());
            case FLOAT16 -> {
                for (float v : t.floats()) {
                    buf.putShort(dev.acdc.util.Half.fromFloat(v));
                }
            }
            case DOUBLE -> buf.asDoubleBuffer().put(t.doubles());
            case INT64 -> buf.asLongBuffer().put(t.longs());
            case INT32 -> {
                for (long v : t.longs()) {
                    buf.putInt((int) v);
                }
            }
            case INT16, UINT16 -> {
                for (long v : t.longs()) {
                    buf.putShort((short) v);
                }
            }
            default -> {
                for (long v : t.longs()) {
                    buf.put((byte) v);
                }
            }
        }
        buf.rewind();
        return b.setRawData(ByteString.copyFrom(buf)).build();
    }
}
