package dev.acdc.cli;

import dev.acdc.runtime.Provider;
import dev.acdc.runtime.Sessions;

import picocli.CommandLine.Option;

/** ONNX Runtime options: provider, strictness, threads. */
@Setting(stage = Setting.Stage.RUNTIME)
final class RuntimeOptions {
    @Setting(stage = Setting.Stage.RUNTIME, level = Setting.Level.BASIC)
    @Option(names = "--provider", paramLabel = "cpu|cuda|auto", defaultValue = "auto",
            description = "ONNX Runtime provider (default auto: CUDA when this build and a GPU have it, else CPU).")
    String provider;

    @Setting(stage = Setting.Stage.GENERAL)
    @Option(names = "--strict", description = "Fail instead of falling back or warning: with --provider cuda, fail "
            + "instead of running on the CPU; in compress, an output that would not be smaller than the input is an "
            + "error (exit 1, nothing written; checked after the fit, before any fine-tune, and again before writing).")
    boolean strict;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "ONNX Runtime intra-op threads (default: ONNX Runtime's choice).")
    int threads;

    Sessions.Config sessions() {
        if (threads < 0 || threads > 1024) {
            throw new dev.acdc.AcdcException("--threads must be 0 (ONNX Runtime's choice) or a thread count up to 1024, got "
                    + threads);
        }
        return Sessions.Config.of(Provider.parse(provider), strict, threads);
    }
}
