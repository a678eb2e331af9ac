package dev.acdc.cli;

import dev.acdc.data.Preprocessing;
import dev.acdc.runtime.Provider;
import dev.acdc.runtime.Sessions;
import picocli.CommandLine.Option;

/** Preprocessing and ONNX Runtime options shared by validate, compress --eval-data and bench. */
final class DataOptions {
    @Option(names = "--scale", paramLabel = "S", description = "Pixel scale before mean/std (default 1/255; 1 keeps 0..255).")
    String scale;

    @Option(names = "--mean", paramLabel = "M[,M,M]", description = "Per-channel mean subtracted after scaling (default 0).")
    String mean;

    @Option(names = "--std", paramLabel = "S[,S,S]", description = "Per-channel standard deviation divided by (default 1).")
    String std;

    @Option(names = "--layout", paramLabel = "nchw|nhwc", description = "Input layout the model expects (default nchw).")
    String layout;

    @Option(names = "--limit", paramLabel = "N", description = "Use only the first N images.")
    Integer limit;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100",
            description = "Images per ONNX Runtime call for models with a symbolic batch (default ${DEFAULT-VALUE}); "
                    + "models with a fixed batch get theirs.")
    int batchSize;

    @Option(names = "--no-labels", description = "Ignore labels: report agreement and logit differences only.")
    boolean noLabels;

    @Option(names = "--provider", paramLabel = "cpu|cuda|auto", defaultValue = "auto",
            description = "ONNX Runtime provider (default auto: CUDA when this build and a GPU have it, else CPU).")
    String provider;

    @Option(names = "--strict", description = "With --provider cuda: fail instead of falling back to CPU.")
    boolean strict;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "ONNX Runtime intra-op threads (default: ONNX Runtime's choice).")
    int threads;

    Preprocessing preprocessing() {
        return Preprocessing.parse(scale, mean, std, layout, limit);
    }

    Sessions.Config sessions() {
        return new Sessions.Config(Provider.parse(provider), strict, threads,
                ai.onnxruntime.OrtSession.SessionOptions.OptLevel.ALL_OPT);
    }
}
