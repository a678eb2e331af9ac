package dev.acdc.ir;

/** ONNX tensor element types, numbered as in the ONNX spec (TensorProto.DataType). */
public enum DataType {
    UNDEFINED(0, 0), FLOAT(1, 4), UINT8(2, 1), INT8(3, 1), UINT16(4, 2), INT16(5, 2), INT32(6, 4),
    INT64(7, 8), STRING(8, 0), BOOL(9, 1), FLOAT16(10, 2), DOUBLE(11, 8), UINT32(12, 4), UINT64(13, 8),
    COMPLEX64(14, 8), COMPLEX128(15, 16), BFLOAT16(16, 2);

    private final int code;
    private final int bytes;

    DataType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    public int code() {
        return code;
    }

    /** Bytes per element in raw_data (0 for strings). */
    public int bytes() {
        return bytes;
    }

    public static DataType of(int code) {
        for (DataType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return UNDEFINED;
    }

    /** Whether acdc decodes this type into numbers (float, double, int64, int32 and the small ints). */
    public boolean isNumeric() {
        return switch (this) {
            case FLOAT, FLOAT16, DOUBLE, INT64, INT32, INT16, INT8, UINT8, UINT16, BOOL -> true;
            default -> false;
        };
    }
}
