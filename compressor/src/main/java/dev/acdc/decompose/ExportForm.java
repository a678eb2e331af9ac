package dev.acdc.decompose;

import dev.acdc.AcdcException;

import java.util.Locale;

/** How decomposed convolutions are written to ONNX (DESIGN §1, "Compact ONNX"). */
public enum ExportForm {
    /** MatMul(α, atoms) → Reshape/Transpose → the dense kernel → the original Conv (runtimes fold it at load). */
    RECONSTRUCT,
    /** A per-input-channel atom convolution, a channel reorder, then a grouped 1×1 coefficient convolution. */
    FACTORIZED;

    public static ExportForm parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new AcdcException("unknown export form '" + s + "' (choose reconstruct or factorized)");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
