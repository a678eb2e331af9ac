package dev.acdc.runtime.workflow;

import dev.acdc.decompose.FileEncoding;
import dev.acdc.runtime.quantize.Quantization;

/**
 * The encode stage's options: how the float model's file is written ({@code encoding}: short names, local
 * functions; null: the default, the smallest) and {@code quantize}, its int8 form (null: none), which carries
 * its own encoding. Checked here, once.
 */
public record EncodeOptions(FileEncoding encoding, Quantization.Request quantize) {
    /** The smallest float file, no int8. */
    public static final EncodeOptions DEFAULT = new EncodeOptions(null, null);

    public EncodeOptions {
        if (encoding == null) {
            encoding = quantize != null ? FileEncoding.PLAIN : FileEncoding.DEFAULT;
        }
        if (quantize != null && encoding.any()) {
            throw new IllegalArgumentException("with int8 the encoding is the quantize request's");
        }
    }
}
