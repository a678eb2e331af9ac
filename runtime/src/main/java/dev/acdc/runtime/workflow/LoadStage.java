package dev.acdc.runtime.workflow;

import dev.acdc.inspect.ModelSummary;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.WidenFloat16;
import dev.acdc.quantize.Quantizer;

/** Reads the model, refuses what the run cannot do with it, measures pass-through operators, and says the plan. */
final class LoadStage implements CompressionStage {
    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        // a library user's class path may lack the training engine: say so before any work
        if (r.fineTune() != null) {
            dev.acdc.train.TrainingEngine.require("fine-tuning (--train-data)");
        }
        if (r.recovery() != null) {
            dev.acdc.train.TrainingEngine.require("block recovery (--recovery)");
        }
        s.listener.note("loading " + r.model());
        s.originalBytes = OutputFiles.readAll(r.model());
        s.m = OnnxModels.load(r.model());
        int sorted = s.m.graph().nodesSortedOnRead();
        s.sortNote = sorted == 0 ? null : sorted + " node(s) of the file were out of topological order and were "
                + "sorted (ONNX Runtime does the same); the written model is sorted";
        if (s.sortNote != null) {
            s.listener.note(s.sortNote);
        }
        Quantizer.requireFloat(s.m, "compress");
        if (r.fineTune() != null) {
            FineTuneJob.requireTrainable(s.m, "fine-tuning (--train-data)");
        }
        PassThrough.prepare(s.m, s.originalBytes, r.load().inputShape(), s.listener);
        s.float16 = WidenFloat16.Origin.of(s.m);
        if (s.float16 != null) { // every later stage sees float32; the encode stage writes it back as it came
            new PassManager(java.util.List.of(new WidenFloat16())).run(s.m);
            s.listener.note("the model is float16: widened to float32 (exact) for the fit; written back with "
                    + s.float16.describe());
        }
        s.before = ModelSummary.of(s.m, r.load().inputShape(), s.originalBytes.length);
        if (s.before.openSpatialNote() != null) {
            s.listener.note(s.before.openSpatialNote());
        }
        s.listener.note(DryRun.outline(r, s.originalBytes, s.m, s.before, s.listener));
        s.loadSeconds = s.seconds(s.t0);
    }
}
