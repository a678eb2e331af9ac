package dev.acdc.cli;

import dev.acdc.runtime.recovery.BlockRecovery;

import picocli.CommandLine.Option;

/**
 * Block recovery's options of {@code compress} (heading "Block recovery"), bound into {@link BlockRecovery.Options}.
 */
@Setting(stage = Setting.Stage.RECOVERY)
final class RecoveryArgs {
    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--recovery", paramLabel = "auto|on|off|KEY=V,..", defaultValue = "auto",
            description = "Block recovery between the fit and the fine-tune: the model is cut where all data flow "
                    + "through one tensor (a ResNet's block outputs), and each segment holding decomposed convs is "
                    + "trained to reproduce the original's output of that segment on the calibration images (no "
                    + "labels); one image in 8 judges each segment, which keeps its fitted weights unless recovery "
                    + "lowered its error. auto: on when calibration images are given and no fine-tune follows, where "
                    + "it is estimated to take at most 10 minutes; on: always, with the defaults; or keys over "
                    + "the defaults: mode=sequential|original|graft (inputs from the recovered prefix or the "
                    + "original; graft: from the prefix, with the original's rest of the network after the "
                    + "segment and the loss on the logits), epochs=N (passes per segment, 20), batch=N (32), "
                    + "lr=R (0.01), holdout=N (8), tail=on|off (the classifier after the last segment, on the "
                    + "logits), budget=MIN. "
                    + "Default ${DEFAULT-VALUE}.")
    String recovery;

    /**
     * Recovery's options (null: none). auto: where calibration images reach the output fit and no fine-tune
     * follows (with one, recovery's gain after 2 epochs was within the noise of the fine-tune given the same
     * time; docs/lab/results-log.md), and where the training engine is there (a class path without ND4J
     * compresses without recovery).
     */
    BlockRecovery.Options options(boolean calibration, boolean fineTune, boolean outputFit) {
        boolean auto = recovery.trim().equalsIgnoreCase("auto");
        if (auto && (!calibration || fineTune || !outputFit || !dev.acdc.train.TrainingEngine.available())) {
            return null;
        }
        return BlockRecovery.Options.parse(recovery);
    }
}
