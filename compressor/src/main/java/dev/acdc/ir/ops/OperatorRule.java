package dev.acdc.ir.ops;

import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeContext;
import dev.acdc.ir.ShapeInference;

import java.util.Map;

/**
 * Everything acdc knows about one ONNX operator, in one object: its arity, its shape rule, its
 * multiply-adds per inference, and whether fine-tuning trains through it (the lowering itself is the
 * train module's, which cannot be named here without ND4J; its test requires one for every rule not
 * marked {@link #notTrained}). Rules live in files by family ({@link ConvolutionRules},
 * {@link ElementwiseRules}, {@link TensorRules}, {@link MatrixRules}, {@link ReduceRules},
 * {@link ResizeRules}, {@link QuantizeRules}); {@link Operators} is the registry.
 *
 * @param notTrained why fine-tuning never trains through it, or null when it does
 */
public record OperatorRule(String op, int minInputs, int maxInputs, int minOutputs, int maxOutputs, Shape shape,
                           Macs macs, String notTrained) {
    /** The shape rule: sets the facts of {@code n}'s outputs from those of its inputs. */
    @FunctionalInterface
    public interface Shape {
        void infer(ShapeContext c, Node n);
    }

    /** Multiply-adds of one inference of {@code n}, from the inferred facts (symbolic dims count as 1). */
    @FunctionalInterface
    public interface Macs {
        long of(Node n, Map<String, ShapeInference.Facts> facts);
    }

    /** A rule with no multiply-adds counted, trained through. */
    public static OperatorRule of(String op, int minInputs, int maxInputs, int minOutputs, int maxOutputs, Shape shape) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, (n, f) -> 0, null);
    }

    /** One input, one output. */
    public static OperatorRule unary(String op, Shape shape) {
        return of(op, 1, 1, 1, 1, shape);
    }

    public OperatorRule withMacs(Macs m) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, m, notTrained);
    }

    public OperatorRule notTrained(String why) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, macs, why);
    }

    /** A symbolic (negative) dimension counted as 1. */
    static long positive(long d) {
        return d < 0 ? 1 : d;
    }
}
