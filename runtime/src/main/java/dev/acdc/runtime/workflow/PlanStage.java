package dev.acdc.runtime.workflow;

import dev.acdc.runtime.Validator;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.DropTarget;
import dev.acdc.runtime.calibration.OutputFitter;
import dev.acdc.runtime.calibration.Sensitivity;
import dev.acdc.runtime.calibration.SizeTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * With calibration images: their sample, the output fitter, the atom allocation of a size or drop target,
 * and the per-set sensitivity curves for the report.
 */
final class PlanStage implements CompressionStage {
    @Override
    public boolean applies(CompressionRun s) {
        CompressionJob.Request r = s.r;
        return r.calibration() != null && (r.fit().mode() == FitOptions.Mode.OUTPUT || r.plan().targetSize() != null
                || r.plan().targetDrop() != null || r.encode().quantize() != null || r.recovery() != null);
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
        boolean trainingBn = r.fineTune() != null && r.fineTune().options().trainingBatchNorm();
        SizeTarget.Written ft = r.fineTune() == null ? SizeTarget.Written.encoded(r.encode().encoding())
                : new SizeTarget.Written(trainingBn, r.fit().filterNorm(), FineTuneJob.recordBound(r.fineTune()), r.encode().encoding());
        List<String> lines = new ArrayList<>();
        SizeTarget.Result plan = null;
        double fraction = r.plan().targetSize() == null ? Double.NaN : r.plan().targetSize();
        if (r.plan().targetDrop() != null) {
            s.listener.note("searching the smallest size for --target-drop " + r.plan().targetDrop()
                    + " (each size tried is a --target-size plan)");
            DropTarget.Result d = DropTarget.search(s.m, s.originalBytes.length, r.plan().targetDrop(), s.settings, s.images,
                    Sensitivity.CANDIDATES_3X3, ft, s.fitter, s.progress);
            plan = d.plan();
            s.dropPlan = plan;
            fraction = d.fraction();
            lines.add("size for " + d.summary());
            for (DropTarget.Step step : d.steps()) {
                lines.add("target drop: tried " + step.line());
            }
        } else if (r.plan().targetSize() != null) {
            s.listener.note("atom budget for --target-size " + r.plan().targetSize());
            plan = SizeTarget.plan(s.m, s.originalBytes.length, r.plan().targetSize(), s.settings, s.images,
                    Sensitivity.CANDIDATES_3X3, ft, s.fitter, s.progress);
        }
        if (plan != null) {
            s.settings = plan.settings();
            lines.add(String.format(Locale.ROOT, "atom budget for --target-size %s (%,d bytes): %s",
                    r.plan().targetSize() != null ? r.plan().targetSize().toString() : String.format(Locale.ROOT, "%.4g", fraction),
                    plan.targetBytes(), plan.summary()));
            for (String l : plan.planLines()) {
                lines.add("atom budget: " + l);
            }
            s.budgetLines = lines; // printed once, with the report's notes; the sizes tried were shown as they went
        }
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
