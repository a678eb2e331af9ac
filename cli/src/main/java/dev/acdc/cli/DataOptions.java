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

    @Option(names = "--limit", paramLabel = "N", description = "Use a sample of N images of each data set read "
            + "(training and evaluation data, each sampled apart; calibration has --calibration-images): seeded "
            + "(--sample-seed) and stratified by "
            + "class where labelled, so class-ordered sets keep every class. The counts used are printed.")
    Integer limit;

    @Option(names = "--train-limit", paramLabel = "N", description = "As --limit, for the training data only "
            + "(default: --limit).")
    Integer trainLimit;

    @Option(names = "--sample-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the --limit samples and of the --select-split hold-out (default ${DEFAULT-VALUE}).")
    long sampleSeed;

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
        if (limit != null && limit < 1) {
            throw new dev.acdc.AcdcException("--limit must be at least 1 image, got " + limit);
        }
        if (trainLimit != null && trainLimit < 1) {
            throw new dev.acdc.AcdcException("--train-limit must be at least 1 image, got " + trainLimit);
        }
        return Preprocessing.parse(scale, mean, std, layout);
    }

    /**
     * {@code data}, or a seeded, class-stratified sample of --limit of its images (--train-limit for the
     * training data); says on {@code err} what is used, as "ROLE data: N of M images of X (...)".
     */
    dev.acdc.data.Dataset sample(dev.acdc.data.Dataset data, String role, java.io.PrintWriter err) {
        Integer n = role.equals("training") && trainLimit != null ? trainLimit : limit;
        if (n == null || n >= data.size()) {
            if (err != null) {
                err.println("acdc: " + role + " data: all " + data.size() + " images of " + data.describe());
            }
            return data;
        }
        dev.acdc.data.Sampling.Subset s = dev.acdc.data.Sampling.sample(data, n, sampleSeed);
        String what = s.size() + " of " + data.describe() + ", a "
                + (s.perClass().length == 0 ? "uniform" : "class-stratified") + " sample (seed " + sampleSeed + ")";
        if (err != null) {
            err.println("acdc: " + role + " data: " + what);
        }
        return new dev.acdc.data.SubsetDataset(data, s.indices(), what);
    }

    Sessions.Config sessions() {
        return runtime.sessions();
    }
}
