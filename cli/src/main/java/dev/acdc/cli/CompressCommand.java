package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Settings;
import dev.acdc.quantize.Quantizer;
import dev.acdc.report.TextReport;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.calibration.OutputFitter;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.runtime.recovery.BlockRecovery;
import dev.acdc.runtime.recovery.RecoveryCheckpoint;
import dev.acdc.runtime.workflow.CompressionJob;
import dev.acdc.runtime.workflow.EncodeOptions;
import dev.acdc.runtime.workflow.FitOptions;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.runtime.workflow.OutputOptions;
import dev.acdc.runtime.workflow.PlanOptions;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code acdc compress} / {@code acdc-compress}: decompose, export, verify, report. */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Decompose every spatial convolution of an ONNX CNN into per-block atoms and shared "
                + "coefficients (ACDC), and every 1x1 conv and wide classifier into a low-rank product in the same "
                + "terms (--pointwise), fitted by truncated SVD or, with calibration images, to reproduce the "
                + "original's convolution outputs (--fit output), and write a compact standard ONNX model "
                + "plus a JSON report. The output is loaded in ONNX Runtime and compared with the original "
                + "on a random probe batch before anything is written.")
final class CompressCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "MODEL.onnx", description = "The pretrained model to compress.")
    Path model;

    // one group of arguments a stage, in the order the stages run; each binds into that stage's options record
    @ArgGroup(validate = false, heading = "Input model%n")
    LoadArgs load = new LoadArgs();

    @Mixin
    DataOptions dataOptions;

    @ArgGroup(validate = false, heading = "Data and preprocessing%n")
    CalibrationArgs calibration = new CalibrationArgs();

    @ArgGroup(validate = false, heading = "Decomposition plan%n")
    PlanArgs plan = new PlanArgs();

    @ArgGroup(validate = false, heading = "Fit%n")
    FitArgs fit = new FitArgs();

    @ArgGroup(validate = false, heading = "Block recovery%n")
    RecoveryArgs recovery = new RecoveryArgs();

    @ArgGroup(validate = false, heading = "Fine-tune%n")
    FineTuneArgs fineTune = new FineTuneArgs();

    @Mixin
    TrainCliOptions train;

    @ArgGroup(validate = false, heading = "int8%n")
    QuantizeArgs quantizeArgs = new QuantizeArgs();

    @Mixin
    QuantizeOptions quantize;

    @ArgGroup(validate = false, heading = "Validation%n")
    ValidateArgs validate = new ValidateArgs();

    @ArgGroup(validate = false, heading = "Output%n")
    WriteArgs write = new WriteArgs();

    @Setting(stage = Setting.Stage.GENERAL, level = Setting.Level.BASIC, recorded = false)
    @Option(names = "--dry-run",
            description = "Print the plan and write nothing: the stages the run would go through, the time of each on "
                    + "this machine (measured on a few steps where it can be, else estimated from those, and said "
                    + "which), and the bytes of the file it would write (exact, but for a fine-tune's few bytes of "
                    + "record and a size target's bound). Takes as long as loading, an SVD fit and a few fine-tuning steps.")
    boolean dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // each stage's options, bound and checked before any data is opened
        String trainData = fineTune.trainData;
        String evalData = validate.evalData;
        if (trainData != null) {
            train.options(trainData); // bad training options fail before any work
        }
        if (evalData != null) {
            dataOptions.preprocessing(); // bad preprocessing options fail before any work
        }
        validate.check();
        String calibSpec = calibration.spec(trainData);
        CompressionJob.LoadOptions loadOptions = load.options();
        PlanOptions planOptions = plan.options(load.allowNonfinite);
        FitOptions fitOptions = fit.options(calibSpec != null, fineTune.filterNorm);
        EncodeOptions encode = quantizeArgs.quantizeMode != null
                ? new EncodeOptions(null, quantize.request(Quantizer.Mode.parse(quantizeArgs.quantizeMode)))
                : new EncodeOptions(quantize.encoding(), null);
        if (quantizeArgs.quantizeMode == null && quantize.anyInt8Given()) {
            throw new AcdcException("--calibration-method, --percentile, --quantize-exclude and --coefficient-scales "
                    + "apply with --quantize only");
        }
        BlockRecovery.Options recoveryOptions = recovery.options(calibSpec != null, trainData != null,
                fitOptions.mode() == FitOptions.Mode.OUTPUT);
        CompressionJob.Request.check(planOptions, fitOptions, calibSpec != null, encode, trainData != null,
                recoveryOptions != null);
        // no output may land on the model, on any data file the run reads, or on another output
        OutputGuard guard = new OutputGuard().reads(model).readsData(calibSpec).readsData(trainData).readsData(evalData);
        OutputFiles.Outputs outs = OutputFiles.Outputs.of(guard,
                write.output != null ? write.output : OutputFiles.compressedName(model), write.report);
        if (trainData != null) {
            guard.checkpointFolder(train.checkpoint, dev.acdc.train.Checkpoint.FILES);
        }
        if (recoveryOptions != null) {
            // finished segments kept in --checkpoint DIR as they finish, else beside the output on Ctrl-C only
            if (train.resume && train.checkpoint == null) {
                throw new AcdcException("--resume needs --checkpoint DIR: the folder the stopped run named");
            }
            Path folder = train.checkpoint != null
                    ? guard.checkpointFolder(train.checkpoint, RecoveryCheckpoint.FILES)
                    : OutputFiles.siblingWithSuffix(outs.model(), ".checkpoint");
            recoveryOptions = recoveryOptions.withCheckpoint(new RecoveryCheckpoint(folder, train.checkpoint != null,
                    train.resume));
        }
        boolean calibrate = recoveryOptions != null || fitOptions.mode() == FitOptions.Mode.OUTPUT
                || planOptions.searches() || (encode.quantize() != null && calibSpec != null);
        Preprocessing pre = trainData != null || evalData != null || calibrate ? dataOptions.preprocessing() : null;

        CompressionJob.Outcome o;
        try (Dataset calibAll = calibrate ? dataOptions.open(calibSpec) : null;
             Dataset trainAll = trainData != null ? dataOptions.open(trainData) : null;
             Dataset evalAll = evalData != null ? dataOptions.open(evalData) : null) {
            Dataset eval = evalAll == null ? null : dataOptions.sample(evalAll, "evaluation", null);
            CompressionJob.Request request = new CompressionJob.Request(model, loadOptions,
                    calibAll == null ? null : calibration.options(calibAll, pre), planOptions, fitOptions,
                    recoveryOptions,
                    trainAll == null ? null : FineTuning.settings(trainAll, eval, pre, train, dataOptions, outs.model()),
                    encode,
                    eval == null ? null : new CompressionJob.Evaluation(eval, pre, ValidationText.options(dataOptions)),
                    new OutputOptions(outs, Reports.provenance(spec, pre), dataOptions.runtime.strict));
            if (dryRun) {
                dev.acdc.runtime.workflow.DryRun.Plan plan = dev.acdc.runtime.workflow.DryRun.of(request,
                        new CliListener(err));
                out.println("plan (--dry-run: nothing written; times on this machine, each measured or estimated as said):");
                plan.lines().forEach(out::println);
                return 0;
            }
            o = CompressionJob.run(request, new CliListener(err).batch(train.batch));
        }

        Path out1 = outs.model();
        long[] probeShape = o.probeShape();
        Probe.Comparison probe = o.probe();
        ValidationResult validation = o.validation();
        out.print(TextReport.render(o.report(), common.wide, WrappingWriter.console));
        if (probe.perOutput()) {
            // a detector's or segmenter's outputs: each compared, argmax over its class axis (not over the whole row)
            out.printf("probe (ONNX Runtime, random batch %s), %d output(s) compared:%n",
                    java.util.Arrays.toString(probeShape), probe.outputs().size());
            for (Probe.OutputDiff d : probe.outputs()) {
                out.println("  " + d.line());
            }
        } else {
            out.printf("probe (ONNX Runtime, random batch %s): max |logit diff| %.3g (output scale %.3g), top-1 agreement %.0f %%%n",
                    java.util.Arrays.toString(probeShape), probe.maxAbsDiff(), probe.outputScale(), 100 * probe.agreement());
        }
        if (validation != null) {
            out.println();
            out.print(ValidationText.render(validation, model.getFileName().toString(), out1.getFileName().toString()));
        }
        if (o.quantized() != null) {
            out.print(QuantizationText.summary(o.quantized(), o.floatBytes(), o.bytes().length));
            ValidationResult fv = o.floatValidation();
            if (fv != null && fv.labels()) {
                out.printf("float model before quantization: %,d bytes, top-1 %.2f %%; %s: %,d bytes, top-1 %.2f %%%n",
                        o.floatBytes(), 100 * fv.candidateTop1(), encode.quantize().mode().id(), o.bytes().length,
                        100 * validation.candidateTop1());
            }
        }
        out.println(Colors.verdict(o.verdict().line(), !o.verdict().warnings().isEmpty()));
        for (String w : o.verdict().warnings()) {
            out.println(Colors.warning(w));
        }
        out.printf("wrote %s (%d bytes); reports %s, %s, %s%n", out1, o.bytes().length, outs.report(),
                outs.markdown().getFileName(), outs.html().getFileName());
        out.flush();
        if (validate.maxDrop != null) {
            if (!validation.labels()) {
                throw new AcdcException("--max-drop needs labels, and the --eval-data have none");
            }
            if (!(validation.drop() <= validate.maxDrop)) { // a NaN drop fails too
                err.printf("acdc: top-1 dropped %.2f points, more than --max-drop %.2f (the model is written)%n",
                        validation.drop(), validate.maxDrop);
                return AcdcException.CHECK_FAILED;
            }
        } else if (planOptions.targetDrop() != null && validation != null && validation.labels()
                && !(validation.drop() <= planOptions.targetDrop())) {
            err.printf("acdc: top-1 dropped %.2f points on the evaluation data, more than --target-drop %.2f "
                    + "predicted on the calibration images (the model is written)%n", validation.drop(), planOptions.targetDrop());
            return AcdcException.CHECK_FAILED;
        }
        return 0;
    }
}
