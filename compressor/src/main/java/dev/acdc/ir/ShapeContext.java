package dev.acdc.ir;

/**
 * What an operator's shape rule ({@link OperatorRule}) reads and writes while
 * {@link ShapeInference} walks a graph: the facts of a node's inputs, the facts it sets on its outputs,
 * constant values, and the model's opset.
 */
public interface ShapeContext {
    /** The facts of input {@code i} of {@code n}; null for an absent optional input. */
    ShapeInference.Facts in(Node n, int i);

    /** The shape of input {@code i}, required known (else an error that asks for {@code --input-shape}). */
    long[] shapeIn(Node n, int i);

    /** The element type of input {@code i} ({@link DataType#UNDEFINED} when absent). */
    DataType typeIn(Node n, int i);

    /** Sets output {@code out} of {@code n}: type, shape and, for a small integer tensor, its tracked values. */
    void set(Node n, int out, DataType type, long[] shape, long[] ints);

    /** Sets the facts of value {@code name} as they are (an Identity's output). */
    void put(String name, ShapeInference.Facts f);

    /** An integer input's values, required fully known ({@code what} names it in the error). */
    long[] constInts(Node n, int i, String what);

    /** A float input's values from an initializer or a Constant node; null when absent or empty. */
    float[] constantFloats(Node n, int i, String what);

    /** The values {@link ShapeInference} tracks for a constant tensor (small integer ones), or null. */
    long[] tracked(Tensor t);

    /** The model's default-domain opset. */
    long opset();
}
