package dev.acdc.cli;

import dev.acdc.data.Preprocessing;
import dev.acdc.runtime.Sessions;
import picocli.CommandLine.Option;

/** Preprocessing and ONNX Runtime options shared by validate, compress --eval-data and finetune. */
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

    @picocli.CommandLine.Mixin
    RuntimeOptions runtime;

    Preprocessing preprocessing() {
        if (batchSize < 1 || batchSize > 65536) {
            throw new dev.acdc.AcdcException("--batch-size must be between 1 and 65536 images, got " + batchSize);
        }
        return Preprocessing.parse(scale, mean, std, layout, limit);
    }

    Sessions.Config sessions() {
        return runtime.sessions();
    }
}
