package dev.acdc.runtime.workflow;

/** Distillation from the original ({@link FineTuneJob}). */
final class FineTuneStage implements CompressionStage {
    @Override
    public boolean applies(CompressionRun s) {
        return s.r.fineTune() != null;
    }

    @Override
    public void run(CompressionRun s) {
        long t = System.nanoTime();
        s.finetune = FineTuneJob.run(s.c.model(), s.originalBytes, s.r.fineTune(), s.listener);
        s.c.timings().put("finetune", s.seconds(t));
    }
}
