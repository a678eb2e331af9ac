package dev.acdc.runtime.workflow;

import dev.acdc.decompose.Compressor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.NormalizeFilters;
import dev.acdc.passes.PassManager;
import dev.acdc.runtime.calibration.Sensitivity;

import java.util.List;

/**
 * Plans the sharing sets and fits the factors (by SVD, or to the original's outputs with the plan stage's
 * fitter); keeps a copy of the original as block recovery's teacher first, and scales the filters for a
 * fine-tune with training BatchNormalization.
 */
final class FitStage implements CompressionStage {
    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        s.recover = r.recovery() != null && s.images != null;
        // the original as the compressor will see it (measured shapes of pass-through operators declared),
        // before filters are scaled: recovery's teacher, whose cut points carry the student's names
        s.teacher = s.recover ? OnnxModels.fromBytes(OnnxModels.toBytes(s.m), r.model().toAbsolutePath().getParent())
                : null;
        boolean trainingBn = r.fineTune() != null && r.fineTune().options().trainingBatchNorm();
        if (trainingBn && r.fit().filterNorm() > 0 && !s.recover) { // recovery mimics the original's activations, unscaled
            PassManager.standard().run(s.m);
            int n = new PassManager(List.of(new NormalizeFilters(r.fit().filterNorm()))).run(s.m).get(0).changes();
            s.listener.note("filters of " + n + " conv(s) scaled to norm " + r.fit().filterNorm()
                    + " for the fit and the fine-tune (the training BNs carry the scale)");
        }
        Compressor.Result c = Compressor.compress(s.m, s.settings, s.progress, s.fitter);
        c.notes().addAll(s.budgetLines);
        c.notes().addAll(s.planNotes);
        if (s.sortNote != null) {
            c.notes().add(s.sortNote);
        }
        if (r.output().strict()) {
            // before a fine-tune spends hours on it: what a fine-tune or int8 changes is small next to this
            CompressionJob.requireSmaller(OnnxModels.toBytes(c.model()).length, s.originalBytes.length,
                    "the compressed model");
        }
        if (s.curves != null) {
            s.sensitivity = Sensitivity.section(s.curves, s.sensImages, c.plan());
            c.timings().put("sensitivity", s.sensitivitySeconds);
        }
        c.timings().put("load", s.loadSeconds);
        s.c = c;
    }
}
