package dev.acdc.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A reusable native-order direct buffer for the float inputs of repeated ONNX Runtime calls.
 * <p>
 * ONNX Runtime's Java API copies an array-backed input into a fresh direct buffer on every call, and that
 * memory goes back only when the garbage collector happens to run its cleaner: on the output fit of an
 * ImageNet ResNet (inputs of 100–250 MB per batch) this was tens of GB of fresh pages per command, a third of
 * its time in the kernel and a resident size twice the heap. A direct input is used in place, so one buffer
 * per stream of calls, grown when a larger input comes, is all the native input memory there is.
 * <p>
 * A tensor made by {@link #tensor} reads this buffer: it is valid until the next call to {@code tensor}.
 */
public final class DirectFloats {
    private FloatBuffer buffer = FloatBuffer.allocate(0);

    /** A tensor of {@code shape} holding {@code x[offset .. offset+length)}, copied into this buffer. */
    public OnnxTensor tensor(float[] x, int offset, int length, long[] shape) throws OrtException {
        return OnnxTensor.createTensor(Sessions.env(), holding(x, offset, length), shape);
    }

    /** This buffer holding {@code x[offset .. offset+length)}, ready to read (for an input of another type). */
    public FloatBuffer holding(float[] x, int offset, int length) {
        if (buffer.capacity() < length) {
            buffer = ByteBuffer.allocateDirect(Math.multiplyExact(length, Float.BYTES))
                    .order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        buffer.clear();
        buffer.put(x, offset, length);
        buffer.flip();
        return buffer;
    }

    /** The floats of a float output, in the array ONNX Runtime's Java API already copied them into. */
    public static float[] floats(OnnxTensor v) {
        FloatBuffer fb = v.getFloatBuffer();
        if (fb.hasArray() && fb.arrayOffset() == 0 && fb.position() == 0 && fb.remaining() == fb.array().length) {
            return fb.array();
        }
        float[] f = new float[fb.remaining()];
        fb.get(f);
        return f;
    }
}
