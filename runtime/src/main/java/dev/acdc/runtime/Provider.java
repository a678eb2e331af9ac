package dev.acdc.runtime;

import dev.acdc.AcdcException;

import java.util.Locale;

/** Which ONNX Runtime execution provider to ask for. */
public enum Provider {
    CPU, CUDA, AUTO;

    public static Provider parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new AcdcException("unknown provider '" + s + "' (choose cpu, cuda or auto)");
        }
    }
}
