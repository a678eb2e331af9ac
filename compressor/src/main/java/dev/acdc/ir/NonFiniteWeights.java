package dev.acdc.ir;

import java.util.ArrayList;
import java.util.List;

/** Finds float initializers holding NaN or ±Inf, which no SVD fit or fine-tune can work with. */
public final class NonFiniteWeights {
    private NonFiniteWeights() {
    }

    /** Whether {@code t} holds no NaN and every reader is a Clip reading it as min or max. */
    static boolean onlyABound(Graph g, Tensor t) {
        for (float v : t.floats()) {
            if (Float.isNaN(v)) {
                return false;
            }
        }
        List<Node> readers = g.consumers(t.name());
        if (readers.isEmpty()) {
            return false;
        }
        for (Node n : readers) {
            if (!n.is("Clip") || n.input(0).equals(t.name())) {
                return false;
            }
        }
        return true;
    }

    /** Whether a tensor holds a NaN or an infinity (false for non-float tensors). */
    public static boolean has(Tensor t) {
        if (t == null || !t.isFloat()) {
            return false;
        }
        for (float v : t.floats()) {
            if (!Float.isFinite(v)) {
                return true;
            }
        }
        return false;
    }

    /**
     * "name (k NaN, j Inf of n values)" for every float initializer with non-finite values, in graph order — but
     * an infinite bound is not a weight: a tensor without NaN that only Clip reads as its min or max
     * ({@code torch.clamp(min=0)} exports max = +Inf) is left out.
     */
    public static List<String> describe(Graph g) {
        List<String> found = new ArrayList<>();
        for (Tensor t : g.initializers().values()) {
            if (!has(t) || onlyABound(g, t)) {
                continue;
            }
            int nan = 0;
            int inf = 0;
            float[] v = t.floats();
            for (float f : v) {
                if (Float.isNaN(f)) {
                    nan++;
                } else if (Float.isInfinite(f)) {
                    inf++;
                }
            }
            found.add("'" + t.name() + "' (" + (nan > 0 ? nan + " NaN" : "") + (nan > 0 && inf > 0 ? ", " : "")
                    + (inf > 0 ? inf + " Inf" : "") + " of " + v.length + " values)");
        }
        return found;
    }
}
