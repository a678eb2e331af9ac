package dev.acdc.runtime.workflow;

import dev.acdc.decompose.Compressor;
import dev.acdc.runtime.recovery.BlockRecovery;

/** Block recovery: each segment trained to reproduce the original's output of it on the calibration images. */
final class RecoveryStage implements CompressionStage {
    @Override
    public boolean applies(CompressionRun s) {
        return s.recover;
    }

    @Override
    public void run(CompressionRun s) {
        long t = System.nanoTime();
        Compressor.prepare(s.teacher, s.settings);
        BlockRecovery.Result rec = BlockRecovery.run(s.c.model(), s.teacher, s.images, s.r.recovery(), s.progress,
                s.listener::checkpoint);
        s.c.timings().put("recovery", s.seconds(t));
        s.recoverySection = rec.section();
    }
}
