package dev.acdc.runtime.workflow;

import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.report.CompressReport;
import dev.acdc.report.Consistency;
import dev.acdc.report.FineTuneSection;
import dev.acdc.report.QuantizationSection;
import dev.acdc.report.SensitivitySection;
import dev.acdc.report.Verification;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.OutputFitter;
import dev.acdc.runtime.calibration.SizeTarget;
import dev.acdc.runtime.quantize.Quantization;

import java.util.List;
import java.util.function.Consumer;

/**
 * What one compression carries from stage to stage ({@link CompressionStage}): the request, then each stage's
 * products, in the order the stages make them. Package-private: the stages are its only readers.
 */
final class CompressionRun {
    final CompressionJob.Request r;
    final JobListener listener;
    final Consumer<String> progress;
    final long t0 = System.nanoTime();

    // load
    byte[] originalBytes;
    Model m;
    ModelSummary before;
    String sortNote;
    /** The interface of a float16 input (null for a float32 one): the encode stage writes the model back so. */
    dev.acdc.passes.WidenFloat16.Origin float16;
    double loadSeconds;
    // plan: calibration images, the output fitter, a size plan, the sensitivity curves
    Settings settings;
    CalibrationImages images;
    OutputFitter fitter;
    List<String> budgetLines = List.of();
    /** What the plan decided by default that the report should say (e.g. a sensitivity sweep skipped). */
    final List<String> planNotes = new java.util.ArrayList<>();
    SizeTarget.Result dropPlan;
    List<dev.acdc.runtime.calibration.Sensitivity.Curve> curves;
    CalibrationImages sensImages;
    /** Seconds the per-set sensitivity sweep took (0: not run). */
    double sensitivitySeconds;
    // fit
    boolean recover;
    /** What block recovery did, for the report (null when it did not apply). */
    dev.acdc.report.RecoverySection recoverySection;
    Model teacher;
    Compressor.Result c;
    SensitivitySection sensitivity;
    // fine-tune
    FineTuneJob.Outcome finetune;
    // encode and int8
    Model encoded;
    byte[] floatBytes;
    Model written;
    Quantization.Outcome quantized;
    byte[] bytes;
    ModelSummary after;
    // verify
    long[] probeShape;
    Probe.Comparison probe;
    CompressReport.Decomposed decomposed;
    Verification verification;
    FineTuneSection finetuneSection;
    Consistency consistency;
    // validate
    ValidationResult validation;
    ValidationResult floatValidation;
    QuantizationSection quantization;
    // write
    CompressionJob.Outcome outcome;

    CompressionRun(CompressionJob.Request r, JobListener listener) {
        this.r = r;
        this.listener = listener;
        this.progress = OutputFiles.checked(listener);
        this.settings = r.plan().settings();
    }

    /** Seconds since the run began. */
    double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
