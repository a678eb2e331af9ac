package dev.acdc.report;

/** The calibration images a stage ran on: the data set, how many, the seeded stratified sample. */
public record CalibrationSample(String data, int images, String sample, long seed, PreprocessingInfo preprocessing) {
}
