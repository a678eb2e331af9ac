package dev.acdc.runtime.workflow;

import dev.acdc.report.CompressReport;
import dev.acdc.report.Verification;
import dev.acdc.runtime.Probe;

import java.util.Arrays;

/**
 * The written bytes in ONNX Runtime against the original on a random probe batch (exact where every kernel
 * is), and, after a fine-tune, ND4J's outputs against ONNX Runtime's on the written weights.
 */
final class VerifyStage implements CompressionStage {
    @Override
    public void run(CompressionRun s) {
        long t = System.nanoTime();
        s.probeShape = Probe.shape(s.m, s.before.inputShape());
        s.listener.note("verifying the output in ONNX Runtime on a probe batch " + Arrays.toString(s.probeShape));
        s.probe = Probe.compare(s.originalBytes, s.bytes, s.probeShape, 1234);
        s.c.timings().put("verify", s.seconds(t));
        CompressionJob.requireExactWhereItShouldBe(s.c, s.fitter == null && !s.recover && s.finetune == null
                && s.quantized == null, s.probe, s.float16 != null);
        s.decomposed = CompressReport.decomposed(s.r.model(), s.before, s.r.output().files().model(), s.after, s.c);
        s.verification = Verification.of(s.probe,
                "random-input probe: the differences measure the approximation, not accuracy");
        s.finetuneSection = s.finetune == null ? null : s.finetune.report();
        s.consistency = s.finetune == null ? null
                : FineTuneJob.consistency(s.c.model(), s.float16 == null ? s.floatBytes
                        : dev.acdc.onnx.OnnxModels.toBytes(s.c.model()), s.listener); // ND4J computes in float32
    }
}
