package dev.acdc.cli;

import dev.acdc.data.Preprocessing;
import dev.acdc.runtime.Sessions;

import picocli.CommandLine.Option;

/** Preprocessing and ONNX Runtime options shared by validate, compress --eval-data and finetune. */
@Setting(stage = Setting.Stage.DATA)
final class DataOptions {
    @Option(names = "--scale", paramLabel = "S", description = "Pixel scale before mean/std (default 1/255; 1 keeps 0..255).")
    String scale;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC)
    @Option(names = "--mean", paramLabel = "M[,M,M]", description = "Per-channel mean subtracted after scaling (default 0).")
    String mean;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC)
    @Option(names = "--std", paramLabel = "S[,S,S]", description = "Per-channel standard deviation divided by (default 1).")
    String std;

    @Option(names = "--layout", paramLabel = "nchw|nhwc", description = "Input layout the model expects (default nchw).")
    String layout;

    @Option(names = "--resize", paramLabel = "N", description = "folder: and list: data: resize each image's shorter side to N "
            + "pixels (bilinear, aspect kept) before the crop.")
    Integer resize;

    @Option(names = "--crop", paramLabel = "HxW", description = "folder: and list: data: center crop of H x W pixels (after "
            + "--resize), so images of any size become inputs of one size.")
    String crop;

    @Option(names = "--color", paramLabel = "auto|rgb|gray", description = "folder: and list: data: rgb (grey images repeated "
            + "over 3 channels), gray (luma of colour images) or auto (by the first image; default).")
    String color;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC)
    @Option(names = "--preset", paramLabel = "imagenet", description = "imagenet: torchvision's evaluation recipe "
            + "for ImageNet models: --resize 256 --crop 224x224 --color rgb --scale 1/255 --mean 0.485,0.456,0.406 "
            + "--std 0.229,0.224,0.225 (options given explicitly win).")
    String preset;

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

    @Setting(stage = Setting.Stage.RUNTIME)
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
        boolean imagenet = imagenetPreset();
        return Preprocessing.parse(scale != null ? scale : imagenet ? "1/255" : null,
                mean != null ? mean : imagenet ? "0.485,0.456,0.406" : null,
                std != null ? std : imagenet ? "0.229,0.224,0.225" : null, layout);
    }

    private boolean imagenetPreset() {
        if (preset == null) {
            return false;
        }
        if (!preset.equalsIgnoreCase("imagenet")) {
            throw new dev.acdc.AcdcException("--preset must be imagenet, got '" + preset + "'");
        }
        return true;
    }

    /** How folder: images become inputs of one size (--resize, --crop, --color, --preset). */
    dev.acdc.data.ImageGeometry geometry() {
        boolean imagenet = imagenetPreset();
        if (resize != null && resize < 1) {
            throw new dev.acdc.AcdcException("--resize must be at least 1 pixel, got " + resize);
        }
        int r = resize != null ? resize : imagenet ? dev.acdc.data.ImageGeometry.IMAGENET.resize() : 0;
        int[] c = crop != null ? dev.acdc.data.ImageGeometry.parseCrop(crop)
                : imagenet ? new int[] {224, 224} : new int[] {0, 0};
        dev.acdc.data.ImageGeometry.Color col;
        if (color == null) {
            col = imagenet ? dev.acdc.data.ImageGeometry.Color.RGB : dev.acdc.data.ImageGeometry.Color.AUTO;
        } else {
            col = switch (color.toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> dev.acdc.data.ImageGeometry.Color.AUTO;
                case "rgb" -> dev.acdc.data.ImageGeometry.Color.RGB;
                case "gray", "grey" -> dev.acdc.data.ImageGeometry.Color.GRAY;
                default -> throw new dev.acdc.AcdcException("--color must be auto, rgb or gray, got '" + color + "'");
            };
        }
        return new dev.acdc.data.ImageGeometry(r, c[0], c[1], col);
    }

    /** Opens a data spec with the image geometry of these options. */
    dev.acdc.data.Dataset open(String spec) {
        return dev.acdc.data.DataSpec.open(spec, geometry());
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
