package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.decompose.WeightRoles;

import java.util.Locale;

/**
 * Fine-tuning settings, built with {@link #builder()} (every setting has a default; {@link #toBuilder()}
 * changes a few). Values are checked when built; the messages name the command-line options.
 */
public final class TrainOptions {
    /** SGD with Nesterov momentum (L2 weight decay, as PyTorch's) or AdamW. */
    public enum OptimizerKind { SGD, ADAM }

    /**
     * Which weights learn: every float weight, only the atoms (the paper's fast adaptation) or only the
     * shared coefficients. Chosen by the role the exporter records for each tensor ({@link WeightRoles}).
     */
    public enum Trained { ALL, ATOMS, COEFFICIENTS }

    /**
     * {@code FOLDED}: the network trains as exported, without normalisation; {@code TRAIN}: a
     * BatchNormalization after every convolution trains with batch statistics ({@link TrainingBatchNorm})
     * and is folded away for export.
     */
    public enum BatchNormMode { FOLDED, TRAIN }

    /**
     * How a training-mode BatchNormalization starts: {@code IDENTITY}, so that the model computes what it
     * computed before; {@code TEACHER}, with γ and β from the teacher's statistics of the same conv, as a
     * pretrained BN kept in training mode after a decomposed conv does ({@link TrainingBatchNorm}).
     */
    public enum BatchNormStart { IDENTITY, TEACHER }

    /**
     * How augmentation draws its crops and flips: {@code IMAGE}, per image with zero padding;
     * {@code BATCH}, one crop and flip for the whole batch with reflect padding ({@link Augment}).
     */
    public enum AugmentMode { IMAGE, BATCH }

    private final int epochs;
    private final int maxSteps;
    private final int batch;
    private final double lr;
    private final OptimizerKind optimizer;
    private final double momentum;
    private final double weightDecay;
    private final Schedule.Kind schedule;
    private final double warmup;
    private final boolean cycleMomentum;
    private final double temperature;
    private final double kdWeight;
    private final double ceWeight;
    private final Boolean augment;
    private final Trained train;
    private final long seed;
    private final double clip;
    private final BatchNormMode batchNorm;
    private final BatchNormStart batchNormStart;
    private final AugmentMode augmentMode;

    private TrainOptions(Builder b) {
        if (b.epochs < 1) {
            throw new AcdcException("--epochs must be at least 1");
        }
        if (b.maxSteps < 0) {
            throw new AcdcException("--max-steps must be 0 (all epochs) or more");
        }
        if (b.batch < 1 || b.batch > 65_536) {
            throw new AcdcException("--batch must be between 1 and 65536");
        }
        if (!(b.lr > 0) || Double.isInfinite(b.lr)) {
            throw new AcdcException("--lr must be positive and finite");
        }
        if (!(b.temperature > 0) || Double.isInfinite(b.temperature)) {
            throw new AcdcException("--temperature must be positive and finite");
        }
        if (!(b.momentum >= 0 && b.momentum < 1)) {
            throw new AcdcException("--momentum must be in [0, 1)");
        }
        if (!(b.weightDecay >= 0) || Double.isInfinite(b.weightDecay)) {
            throw new AcdcException("--weight-decay must be 0 or more");
        }
        if (!(b.kdWeight >= 0) || !(b.ceWeight >= 0) || Double.isInfinite(b.kdWeight) || Double.isInfinite(b.ceWeight)) {
            throw new AcdcException("--kd-weight and --ce-weight must be 0 or more");
        }
        if (!Double.isNaN(b.clip) && !(b.clip >= 0 && b.clip < Double.POSITIVE_INFINITY)) {
            throw new AcdcException("--clip must be 0 (off) or more");
        }
        if (!Double.isNaN(b.warmup) && !(b.warmup >= 0 && b.warmup < 1)) {
            throw new AcdcException("--warmup must be a fraction in [0, 1)");
        }
        epochs = b.epochs;
        maxSteps = b.maxSteps;
        batch = b.batch;
        lr = b.lr;
        optimizer = b.optimizer;
        momentum = b.momentum;
        weightDecay = b.weightDecay;
        schedule = b.schedule;
        warmup = Double.isNaN(b.warmup) ? Schedule.defaultWarmup(b.schedule) : b.warmup;
        cycleMomentum = b.cycleMomentum;
        temperature = b.temperature;
        kdWeight = b.kdWeight;
        ceWeight = b.ceWeight;
        augment = b.augment;
        train = b.train;
        seed = b.seed;
        batchNorm = b.batchNorm;
        batchNormStart = b.batchNormStart;
        augmentMode = b.augmentMode;
        clip = Double.isNaN(b.clip) ? defaultClip(b.batchNorm) : b.clip;
    }

    /**
     * No clipping with training-mode BN (as the reference recipe; batch statistics keep the gradients
     * in scale), a global norm of 5 for the folded network, which diverges without it (docs/finetune.md).
     */
    public static double defaultClip(BatchNormMode mode) {
        return mode == BatchNormMode.TRAIN ? 0 : 5;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static TrainOptions defaults() {
        return builder().build();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.epochs = epochs;
        b.maxSteps = maxSteps;
        b.batch = batch;
        b.lr = lr;
        b.optimizer = optimizer;
        b.momentum = momentum;
        b.weightDecay = weightDecay;
        b.schedule = schedule;
        b.warmup = warmup;
        b.cycleMomentum = cycleMomentum;
        b.temperature = temperature;
        b.kdWeight = kdWeight;
        b.ceWeight = ceWeight;
        b.augment = augment;
        b.train = train;
        b.seed = seed;
        b.clip = clip;
        b.batchNorm = batchNorm;
        b.batchNormStart = batchNormStart;
        b.augmentMode = augmentMode;
        return b;
    }

    /** These options for training from labels alone: no distillation term, cross-entropy weight 1. */
    public TrainOptions labelsOnly() {
        return toBuilder().kdWeight(0).ceWeight(1).build();
    }

    /** Whether a tensor with this role (recorded by the exporter, {@link WeightRoles}) is trained. */
    public boolean trains(WeightRoles.Role role) {
        return switch (train) {
            case ATOMS -> role == WeightRoles.Role.ATOMS;
            case COEFFICIENTS -> role == WeightRoles.Role.COEFFICIENTS;
            case ALL -> role != WeightRoles.Role.STATISTICS;
        };
    }

    public int epochs() {
        return epochs;
    }

    /** 0: all epochs. */
    public int maxSteps() {
        return maxSteps;
    }

    public int batch() {
        return batch;
    }

    /** The peak learning rate. */
    public double lr() {
        return lr;
    }

    public OptimizerKind optimizer() {
        return optimizer;
    }

    public double momentum() {
        return momentum;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public Schedule.Kind schedule() {
        return schedule;
    }

    /** The fraction of the steps over which the learning rate rises. */
    public double warmup() {
        return warmup;
    }

    /**
     * One-cycle only: momentum falls from {@link Schedule#MAX_MOMENTUM} to {@link Schedule#BASE_MOMENTUM}
     * as the rate rises and climbs back as it decays (PyTorch's {@code OneCycleLR} default, so the
     * reference recipe's), instead of the fixed {@link #momentum()}.
     */
    public boolean cycleMomentum() {
        return cycleMomentum;
    }

    public double temperature() {
        return temperature;
    }

    public double kdWeight() {
        return kdWeight;
    }

    public double ceWeight() {
        return ceWeight;
    }

    /** Null: automatic (on for 32×32 RGB). */
    public Boolean augment() {
        return augment;
    }

    public Trained train() {
        return train;
    }

    public long seed() {
        return seed;
    }

    /** Global gradient-norm clip; 0 = off. */
    public double clip() {
        return clip;
    }

    public BatchNormMode batchNorm() {
        return batchNorm;
    }

    public BatchNormStart batchNormStart() {
        return batchNormStart;
    }

    public AugmentMode augmentMode() {
        return augmentMode;
    }

    /** Whether BatchNormalization trains with batch statistics. */
    public boolean trainingBatchNorm() {
        return batchNorm == BatchNormMode.TRAIN;
    }

    /** The command-line spelling of an enum value: {@code ONE_CYCLE} → {@code one-cycle}. */
    public static String spell(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static <E extends Enum<E>> E parse(Class<E> type, String option, String value) {
        for (E e : type.getEnumConstants()) {
            if (spell(e).equals(value.trim().toLowerCase(Locale.ROOT))) {
                return e;
            }
        }
        StringBuilder choices = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            choices.append(choices.length() == 0 ? "" : ", ").append(spell(e));
        }
        throw new AcdcException(option + " must be one of " + choices + ", got '" + value + "'");
    }

    /** Settings with their defaults, the recipe measured best on the ResNet-20 benchmark (docs/lab/results-log.md). */
    public static final class Builder {
        private int epochs = 8;
        private int maxSteps;
        private int batch = 128;
        private double lr = 0.02;
        private OptimizerKind optimizer = OptimizerKind.SGD;
        private double momentum = 0.9;
        private double weightDecay = 5e-4;
        private Schedule.Kind schedule = Schedule.Kind.ONE_CYCLE;
        private double warmup = Double.NaN;
        private boolean cycleMomentum;
        private double temperature = 4;
        private double kdWeight = 0.9;
        private double ceWeight = 0.1;
        private Boolean augment;
        private Trained train = Trained.ALL;
        private long seed = 1;
        private double clip = Double.NaN;
        private BatchNormMode batchNorm = BatchNormMode.TRAIN;
        private BatchNormStart batchNormStart = BatchNormStart.IDENTITY;
        private AugmentMode augmentMode = AugmentMode.IMAGE;

        private Builder() {
        }

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder maxSteps(int v) {
            maxSteps = v;
            return this;
        }

        public Builder batch(int v) {
            batch = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder optimizer(OptimizerKind v) {
            optimizer = v;
            return this;
        }

        public Builder optimizer(String v) {
            return optimizer(parse(OptimizerKind.class, "--optimizer", v));
        }

        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder schedule(Schedule.Kind v) {
            schedule = v;
            return this;
        }

        /** NaN: the schedule's default ({@link Schedule#defaultWarmup}). */
        public Builder cycleMomentum(boolean v) {
            cycleMomentum = v;
            return this;
        }

        public Builder warmup(double v) {
            warmup = v;
            return this;
        }

        public Builder temperature(double v) {
            temperature = v;
            return this;
        }

        public Builder kdWeight(double v) {
            kdWeight = v;
            return this;
        }

        public Builder ceWeight(double v) {
            ceWeight = v;
            return this;
        }

        public Builder augment(Boolean v) {
            augment = v;
            return this;
        }

        public Builder train(Trained v) {
            train = v;
            return this;
        }

        public Builder train(String v) {
            return train(parse(Trained.class, "--train", v));
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /** NaN: {@link #defaultClip} for the BN mode. */
        public Builder clip(double v) {
            clip = v;
            return this;
        }

        public Builder batchNorm(BatchNormMode v) {
            batchNorm = v;
            return this;
        }

        public Builder augmentMode(AugmentMode v) {
            augmentMode = v;
            return this;
        }

        public Builder augmentMode(String v) {
            return augmentMode(parse(AugmentMode.class, "--augment-mode", v));
        }

        public Builder batchNormStart(BatchNormStart v) {
            batchNormStart = v;
            return this;
        }

        public Builder batchNormStart(String v) {
            return batchNormStart(parse(BatchNormStart.class, "--batch-norm-start", v));
        }

        public Builder batchNorm(String v) {
            return batchNorm(parse(BatchNormMode.class, "--batch-norm", v));
        }

        public TrainOptions build() {
            return new TrainOptions(this);
        }
    }
}
