package dev.acdc.train;

import dev.acdc.AcdcException;

import java.util.Locale;

/**
 * Fine-tuning settings. {@code train}: {@code all} (every float weight), {@code atoms} (the paper's
 * fast-adaptation mode) or {@code coefficients}. {@code augment}: null = auto (on for 32×32 RGB).
 * {@code batchNorm}: train with BatchNormalization after every convolution ({@link TrainingBatchNorm}),
 * folded away again for export.
 */
public record TrainOptions(int epochs, int maxSteps, int batch, double lr, String optimizer, double momentum,
                           double weightDecay, Schedule.Kind schedule, double temperature, double kdWeight,
                           double ceWeight, Boolean augment, String train, long seed, double clip,
                           boolean batchNorm) {

    public TrainOptions {
        if (epochs < 1) {
            throw new AcdcException("--epochs must be at least 1");
        }
        if (batch < 1) {
            throw new AcdcException("--batch must be at least 1");
        }
        if (!(lr > 0)) {
            throw new AcdcException("--lr must be positive");
        }
        if (!(temperature > 0)) {
            throw new AcdcException("--temperature must be positive");
        }
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        if (!optimizer.equals("sgd") && !optimizer.equals("adam")) {
            throw new AcdcException("--optimizer must be sgd (Nesterov momentum) or adam");
        }
        train = train.toLowerCase(Locale.ROOT);
        if (!train.equals("all") && !train.equals("atoms") && !train.equals("coefficients")) {
            throw new AcdcException("--train must be all, atoms or coefficients");
        }
    }

    public static TrainOptions defaults() {
        return new TrainOptions(8, 0, 128, 0.02, "sgd", 0.9, 5e-4, Schedule.Kind.ONE_CYCLE, 4, 0.9, 0.1, null, "all", 1,
                5.0, false);
    }

    /** These options for training from labels alone: no distillation term, cross-entropy weight 1. */
    public TrainOptions labelsOnly() {
        return new TrainOptions(epochs, maxSteps, batch, lr, optimizer, momentum, weightDecay, schedule, temperature, 0,
                1, augment, train, seed, clip, batchNorm);
    }

    /** Whether an initializer of the compact model is trained. */
    public boolean trains(String initializer) {
        return switch (train) {
            case "atoms" -> initializer.endsWith("/atoms");
            case "coefficients" -> initializer.endsWith("/coefficients");
            default -> true;
        };
    }
}
