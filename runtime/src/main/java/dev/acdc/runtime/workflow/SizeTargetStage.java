package dev.acdc.runtime.workflow;

import dev.acdc.runtime.calibration.DropTarget;
import dev.acdc.runtime.calibration.Sensitivity;
import dev.acdc.runtime.calibration.SizeTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The atom allocation of a size target ({@code --target-size}) or of a drop target ({@code --target-drop},
 * a search over size targets). Requires: the calibration images and, for the output fit, its fitter.
 * Ensures: {@code settings} hold the kept allocation per sharing set, {@code budgetLines} say how it was
 * chosen, {@code dropPlan} the drop target's plan.
 */
final class SizeTargetStage implements CompressionStage {
    @Override
    public boolean applies(CompressionRun s) {
        return s.images != null && s.r.plan().searches();
    }

    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
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
    }
}
