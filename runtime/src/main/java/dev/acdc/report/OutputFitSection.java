package dev.acdc.report;

/**
 * The output fit: the calibration images, its target and iteration cap, the network's top-1 agreement
 * and mean KL divergence against the original before (SVD fit) and after it, and its time.
 */
public record OutputFitSection(CalibrationSample calibration, int iterationsMax, String target, double agreementSvd,
                               double agreementOutputFit, double klSvd, double klOutputFit, double statisticsSeconds,
                               double solveSeconds, double seconds) {
}
