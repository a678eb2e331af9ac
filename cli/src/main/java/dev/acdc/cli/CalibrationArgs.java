package dev.acdc.cli;

import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.runtime.workflow.CompressionJob;

import picocli.CommandLine.Option;

/**
 * The calibration images of {@code compress} (heading "Data and preprocessing"), bound into {@link CompressionJob.Calibration}.
 */
@Setting(stage = Setting.Stage.DATA)
final class CalibrationArgs {
    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--calibration-data", paramLabel = "SPEC",
            description = "Images for the output fit (any data spec; labels, if any, only stratify the sample). "
                    + "Default: --train-data when given. Same preprocessing options as the other data.")
    String calibrationData;

    @Option(names = "--calibration-images", paramLabel = "N",
            description = "Images the output fit uses: a seeded sample, stratified by class when labelled "
                    + "(default ${DEFAULT-VALUE}; all of them if the set is smaller).")
    int calibrationImages = CompressionJob.Calibration.IMAGES;

    @Option(names = "--calibration-seed", paramLabel = "S",
            description = "Seed of the calibration sample (default ${DEFAULT-VALUE}).")
    long calibrationSeed = CompressionJob.Calibration.SEED;

    /** The calibration data's spec: --calibration-data, else the training data (null: none). */
    String spec(String trainData) {
        CompressionJob.Calibration.checkImages(calibrationImages); // before any data is opened
        return calibrationData != null ? calibrationData : trainData;
    }

    CompressionJob.Calibration options(Dataset data, Preprocessing pre) {
        return new CompressionJob.Calibration(data, pre, calibrationImages, calibrationSeed);
    }
}
