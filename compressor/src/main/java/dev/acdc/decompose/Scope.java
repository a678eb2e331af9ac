package dev.acdc.decompose;

import dev.acdc.AcdcException;

import java.util.Locale;

/** Which blocks share one coefficient tensor (DESIGN §1, "Sharing scope"). */
public enum Scope {
    /** One convolution: its blocks share one α. */
    LAYER,
    /** One residual block: the main-path convolutions between two residual merges. */
    BLOCK,
    /** Consecutive residual blocks with the same output width and resolution. */
    STAGE,
    /** The whole network. */
    NET;

    public static Scope parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new AcdcException("unknown sharing scope '" + s + "' (choose layer, block, stage or net)");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
