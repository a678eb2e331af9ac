package dev.acdc.ir;

import java.util.Map;

/**
 * Everything acdc knows about one ONNX operator, in one object: its arity, its shape rule, its
 * multiply-adds per inference, and whether fine-tuning trains through it (the lowering itself is the
 * train module's, which cannot be named here without ND4J; its test requires one for every rule not
 * marked {@link #notTrained}). Rules live in package {@code ir.ops}, in files by family
 * (convolution, elementwise, tensor, matrix, reduce, resize, quantize); {@link Operators} is the registry.
 *
 * @param notTrained why fine-tuning never trains through it, or null when it does
 * @param foldable   whether its shape rule tracks its integer results, so that {@code FoldConstants} may
 *                   replace it by them when they are fully known (the Shape → Gather → Concat chains)
 * @param upgrade    how a node written at an older opset becomes its opset-13 form ({@code UpgradeOpset})
 */
public record OperatorRule(String op, int minInputs, int maxInputs, int minOutputs, int maxOutputs, Shape shape,
                           Macs macs, String notTrained, boolean foldable, Upgrade upgrade) {
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

    /**
     * Rewrites node {@code n}, written at opset {@code from}, into its form at opset {@code target} (13 or
     * later); returns the number of changes (0: the same at both).
     */
    @FunctionalInterface
    public interface Upgrade {
        int apply(Node n, long from, long target, Graph g, Map<String, ShapeInference.Facts> facts);
    }

    /** A rule with no multiply-adds counted, trained through, not folded, the same at every opset. */
    public static OperatorRule of(String op, int minInputs, int maxInputs, int minOutputs, int maxOutputs, Shape shape) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, (n, f) -> 0, null, false,
                (n, from, target, g, f) -> 0);
    }

    /** One input, one output. */
    public static OperatorRule unary(String op, Shape shape) {
        return of(op, 1, 1, 1, 1, shape);
    }

    public OperatorRule withMacs(Macs m) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, m, notTrained, foldable, upgrade);
    }

    public OperatorRule notTrained(String why) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, macs, why, foldable, upgrade);
    }

    /** Marks it {@link #foldable}. */
    public OperatorRule folding() {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, macs, notTrained, true, upgrade);
    }

    public OperatorRule withUpgrade(Upgrade u) {
        return new OperatorRule(op, minInputs, maxInputs, minOutputs, maxOutputs, shape, macs, notTrained, foldable, u);
    }

    /** A symbolic (negative) dimension counted as 1. */
    public static long positive(long d) {
        return d < 0 ? 1 : d;
    }
}
