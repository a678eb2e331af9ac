package dev.acdc.cli;

import dev.acdc.train.Schedule;
import dev.acdc.train.TrainOptions;

import picocli.CommandLine.Option;

/** Fine-tuning options shared by finetune and compress --train-data. */
@Setting(stage = Setting.Stage.FINETUNE)
final class TrainCliOptions {
    /** The library's defaults: each option below starts at its value there (picocli's default is the field's). */
    private static final TrainOptions DEFAULTS = TrainOptions.defaults();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.BASIC)
    @Option(names = "--epochs", description = "Passes over the training data (default ${DEFAULT-VALUE}).")
    int epochs = DEFAULTS.epochs();

    @Option(names = "--max-steps", description = "Stop after this many steps (default: all epochs).")
    int maxSteps = DEFAULTS.maxSteps();

    @Option(names = "--batch", description = "Training batch size (default ${DEFAULT-VALUE}).")
    int batch = DEFAULTS.batch();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.BASIC)
    @Option(names = "--lr", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr = DEFAULTS.lr();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--optimizer", description = "sgd (Nesterov momentum) or adam (default ${DEFAULT-VALUE}).")
    String optimizer = TrainOptions.spell(DEFAULTS.optimizer());

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--momentum", description = "SGD momentum (default ${DEFAULT-VALUE}).")
    double momentum = DEFAULTS.momentum();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--cycle-momentum", description = "With --schedule one-cycle: move the momentum opposite to the "
            + "rate, 0.95 down to 0.85 over the warm-up and back up over the decay, as PyTorch's OneCycleLR does by "
            + "default (and so the reference recipe); --momentum is then ignored. Default: off.")
    boolean cycleMomentum;

    @Option(names = "--weight-decay", description = "Weight decay: added to the gradient as L2 for sgd (as PyTorch's SGD), "
            + "decoupled for adam (AdamW) (default ${DEFAULT-VALUE}).")
    double weightDecay = DEFAULTS.weightDecay();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--schedule",
            description = "one-cycle, cosine (warm-up + cosine) or constant (default ${DEFAULT-VALUE}).")
    String schedule = TrainOptions.spell(DEFAULTS.schedule());

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--warmup", paramLabel = "F",
            description = "Fraction of the steps over which the learning rate rises (default: 0.15 for one-cycle, "
                    + "0.05 for cosine).")
    Double warmup;

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--select-split", paramLabel = "F",
            description = "Hold out this fraction of the training data (seeded by --sample-seed, stratified by class) "
                    + "and keep the epoch that scores best on it; 0 keeps the last epoch. --eval-data is only "
                    + "reported, never used to choose (default ${DEFAULT-VALUE}).")
    double selectSplit = dev.acdc.runtime.workflow.FineTuneJob.Settings.SELECT_SPLIT;

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--temperature", description = "Distillation temperature T (default ${DEFAULT-VALUE}).")
    double temperature = DEFAULTS.temperature();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--kd-weight", description = "Weight of the distillation term (default ${DEFAULT-VALUE}).")
    double kdWeight = DEFAULTS.kdWeight();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--ce-weight",
            description = "Weight beta of cross-entropy with the labels, where they exist (default ${DEFAULT-VALUE}).")
    double ceWeight = DEFAULTS.ceWeight();

    @Option(names = "--augment", negatable = true,
            description = "Pad-and-crop plus flip augmentation (default: on for 32x32 RGB, off otherwise).")
    Boolean augment;

    @Option(names = "--train-crop", defaultValue = "auto", paramLabel = "auto|random-resized|center",
            description = "How folder: and list: training images are cropped: random-resized (torchvision's training recipe: a "
                    + "random 8-100 %% area at aspect 3/4-4/3 of the decoded image, scaled to the --crop size, flipped "
                    + "with probability 1/2, drawn anew every epoch) or center (the evaluation geometry: --resize then "
                    + "the center --crop). auto (default): random-resized when --crop or --preset imagenet gives "
                    + "the images a crop size, else center. Evaluation and the selection split always use center.")
    String trainCrop;

    /**
     * The training data with the crops --train-crop asks for: a {@link dev.acdc.data.FolderDataset} with a
     * crop size draws random-resized crops for training; anything else is returned as it is.
     */
    dev.acdc.data.Dataset trainingCrops(dev.acdc.data.Dataset data, dev.acdc.data.ImageGeometry geometry) {
        String mode = trainCrop == null ? "auto" : trainCrop.toLowerCase(java.util.Locale.ROOT);
        boolean folder = data instanceof dev.acdc.data.FolderDataset;
        switch (mode) {
            case "center":
                return data;
            case "auto":
                return folder && geometry.cropH() > 0 ? ((dev.acdc.data.FolderDataset) data).withRandomResizedCrops() : data;
            case "random-resized":
                if (!folder) {
                    throw new dev.acdc.AcdcException("--train-crop random-resized applies to folder: and list: training data, not "
                            + data.describe());
                }
                return ((dev.acdc.data.FolderDataset) data).withRandomResizedCrops();
            default:
                throw new dev.acdc.AcdcException("--train-crop must be auto, random-resized or center, got '" + trainCrop + "'");
        }
    }

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--augment-mode", paramLabel = "image|batch",
            description = "image (default): each image gets its own shift of up to 4 pixels (zero border) and flip; "
                    + "batch: one shift (reflected border) and one flip for the whole batch, as the PyTorch "
                    + "reference recipe in docs/finetune.md.")
    String augmentMode = TrainOptions.spell(DEFAULTS.augmentMode());

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--train",
            description = "Which weights learn: all, atoms (the paper's fast adaptation) or coefficients (default ${DEFAULT-VALUE}).")
    String train = TrainOptions.spell(DEFAULTS.train());

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--clip", paramLabel = "NORM", description = "Clip gradients to this global L2 norm; 0 = off "
            + "(default: off with --batch-norm train, 5 with folded, which diverges without it).")
    Double clip;

    @Setting(stage = Setting.Stage.FINETUNE, recorded = false)
    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "Write a checkpoint (model, optimizer state, progress) here after every epoch; compress also "
                    + "keeps each finished block-recovery segment here. Without it, Ctrl-C leaves one beside the output "
                    + "(OUT.checkpoint).")
    java.nio.file.Path checkpoint;

    @Setting(stage = Setting.Stage.FINETUNE, recorded = false)
    @Option(names = "--resume", description = "Continue from the checkpoint in --checkpoint DIR (same data order, "
            + "optimizer state and schedule as an uninterrupted run; block recovery goes on after its last finished "
            + "segment). Give the stopped run's other options unchanged.")
    boolean resume;

    @Option(names = "--seed", description = "Seed of data order and augmentation (default ${DEFAULT-VALUE}).")
    long seed = DEFAULTS.seed();

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--batch-norm", paramLabel = "train|folded",
            description = "train (default): put BatchNormalization back after every convolution, train it with batch "
                    + "statistics and fold it away again for export (the written model has no BatchNormalization); "
                    + "folded: train the network as exported, without normalisation (faster per step, slower to "
                    + "recover; see docs/finetune.md).")
    String batchNorm = TrainOptions.spell(DEFAULTS.batchNorm());

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--batch-norm-start", paramLabel = "identity|teacher",
            description = "How each BatchNormalization of --batch-norm train starts. identity (default): the model "
                    + "computes what it computed before; teacher: its scale and shift restore the teacher's per-channel "
                    + "mean and variance of the same conv's output on the calibration images, as a pretrained BN "
                    + "kept in training mode does (helps an SVD start; hurts the output fit, which already matches "
                    + "the outputs in least squares; see docs/finetune.md).")
    String batchNormStart = TrainOptions.spell(DEFAULTS.batchNormStart());

    /** {@link #options()}, and --train-crop checked against the training data spec, before any work. */
    TrainOptions options(String trainSpec) {
        if (trainSpec != null && "random-resized".equalsIgnoreCase(trainCrop)
                && !trainSpec.startsWith("folder:") && !trainSpec.startsWith("list:")) {
            throw new dev.acdc.AcdcException("--train-crop random-resized applies to folder: and list: training data, not "
                    + trainSpec);
        }
        return options();
    }

    TrainOptions options() {
        if (trainCrop != null && !java.util.Set.of("auto", "random-resized", "center")
                .contains(trainCrop.toLowerCase(java.util.Locale.ROOT))) {
            throw new dev.acdc.AcdcException("--train-crop must be auto, random-resized or center, got '" + trainCrop + "'");
        }
        // an option given as NaN must not fall back to the default that NaN stands for in the builder
        if (clip != null && !(clip >= 0 && clip < Double.POSITIVE_INFINITY)) {
            throw new dev.acdc.AcdcException("--clip must be a finite norm, 0 (off) or more, got " + clip);
        }
        if (warmup != null && !(warmup >= 0 && warmup < 1)) {
            throw new dev.acdc.AcdcException("--warmup must be a fraction in [0, 1), got " + warmup);
        }
        if (!(selectSplit >= 0 && selectSplit < 0.5)) {
            throw new dev.acdc.AcdcException("--select-split must be a fraction in [0, 0.5), got " + selectSplit);
        }
        return TrainOptions.builder().epochs(epochs).maxSteps(maxSteps).batch(batch).lr(lr).optimizer(optimizer)
                .momentum(momentum).cycleMomentum(cycleMomentum).weightDecay(weightDecay).schedule(Schedule.parse(schedule))
                .warmup(warmup == null ? Double.NaN : warmup).temperature(temperature).kdWeight(kdWeight)
                .ceWeight(ceWeight).augment(augment).augmentMode(augmentMode).train(train).seed(seed).clip(clip == null ? Double.NaN : clip)
                .batchNorm(batchNorm).batchNormStart(batchNormStart).build();
    }
}
