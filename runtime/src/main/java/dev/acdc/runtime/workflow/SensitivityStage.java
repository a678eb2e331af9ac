package dev.acdc.runtime.workflow;

import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.Sensitivity;

import java.util.Locale;

/**
 * The report's per-set sensitivity curves: each sharing set alone compressed at a few atom counts, SVD
 * fit, KL and top-1 agreement with the original on a sample of the calibration images. Requires: the
 * calibration images. Ensures: {@code curves} (and their images and time) when the plan's sample is not 0,
 * with a note where the automatic sample was cut or skipped for the model's cost.
 */
final class SensitivityStage implements CompressionStage {
    @Override
    public boolean applies(CompressionRun s) {
        return s.images != null;
    }

    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        CompressionJob.Calibration cal = r.calibration();
        int sensitivity = r.plan().sensitivitySample(s.before.macs(), s.before.convs().size());
        if (r.plan().sensitivityImages() == PlanOptions.AUTO && sensitivity < Math.min(
                PlanOptions.SENSITIVITY_IMAGES, s.images.count())) {
            s.planNotes.add(sensitivity == 0
                    ? String.format(Locale.ROOT, "per-set sensitivity skipped: on this model (%.3g multiply-adds an "
                    + "image, %d convs) it would cost more than the default budget; --sensitivity-images N measures it",
                    (double) s.before.macs(), s.before.convs().size())
                    : String.format(Locale.ROOT, "per-set sensitivity sampled on %d images to stay within the default "
                    + "budget (%.3g multiply-adds an image, %d convs); --sensitivity-images N sets the count",
                    sensitivity, (double) s.before.macs(), s.before.convs().size()));
            s.listener.note(s.planNotes.get(s.planNotes.size() - 1));
        }
        if (sensitivity > 0) {
            s.sensImages = sensitivity >= s.images.count() ? s.images
                    : CalibrationImages.sample(cal.data(), cal.pre(), sensitivity, cal.seed());
            s.listener.note("per-set sensitivity on " + s.sensImages.subset().describe() + " (--sensitivity-images "
                    + (r.plan().sensitivityImages() == PlanOptions.AUTO ? "auto: " + sensitivity
                    : r.plan().sensitivityImages()) + ")");
            long ts = System.nanoTime();
            s.curves = Sensitivity.measure(s.m, r.plan().settings(), s.sensImages, Sensitivity.CANDIDATES_3X3, s.progress);
            s.sensitivitySeconds = s.seconds(ts);
        }
    }
}
