package dev.acdc.runtime.workflow;

import dev.acdc.runtime.Validator;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.OutputFitter;

/**
 * The calibration images and, for the output fit, its fitter. Requires: the model loaded and calibration
 * data in the request that some stage uses (the output fit, a size or drop target, block recovery, int8).
 * Ensures: {@code images} sampled (seeded, stratified where labelled), {@code fitter} set for the output fit.
 */
final class CalibrationStage implements CompressionStage {
    @Override
    public boolean applies(CompressionRun s) {
        CompressionJob.Request r = s.r;
        return r.calibration() != null && (r.fit().mode() == FitOptions.Mode.OUTPUT || r.plan().searches()
                || r.encode().quantize() != null || r.recovery() != null);
    }

    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        CompressionJob.Calibration cal = r.calibration();
        Validator.checkImagesFit(OutputFiles.declaredInput(s.m, s.before), cal.data(), cal.pre());
        s.images = CalibrationImages.sample(cal.data(), cal.pre(), cal.images(), cal.seed());
        s.listener.note("calibration images: " + s.images.subset().describe() + " of " + cal.data().describe());
        if (r.fit().mode() == FitOptions.Mode.OUTPUT) {
            s.fitter = new OutputFitter(s.images, 64, r.fit().iterations(), r.fit().matchSum());
        }
    }
}
