package dev.acdc.ir;

import java.util.ArrayList;
import java.util.List;

/** Finds float initializers holding NaN or ±Inf, which no SVD fit or fine-tune can work with. */
public final class NonFiniteWeights {
    private NonFiniteWeights() {
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

    /** "name (k NaN, j Inf of n values)" for every float initializer with non-finite values, in graph order. */
    public static List<String> describe(Graph g) {
        List<String> found = new ArrayList<>();
        for (Tensor t : g.initializers().values()) {
            if (!has(t)) {
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
