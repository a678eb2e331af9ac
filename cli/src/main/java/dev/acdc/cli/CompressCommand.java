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
import dev.acdc.runtime.workflow.CompressionJob;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.OutputGuard;

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

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--method", paramLabel = "ID", defaultValue = "acdc", completionCandidates = Methods.class,
            description = "Decomposition method (registered: ${COMPLETION-CANDIDATES}; default ${DEFAULT-VALUE}: "
                    + "atoms per conv, coefficients shared across a sharing set). Others are added by a jar on the "
                    + "class path that registers a dev.acdc.decompose.DecompositionMethod (docs/api.md).")
    String method;

    /** The registered decomposition methods, for --help. */
    static final class Methods implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return dev.acdc.decompose.DecompositionMethods.ids().iterator();
        }
    }

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--share", paramLabel = "SCOPE", defaultValue = "layer",
            description = "Which blocks share one coefficient tensor: layer (one conv), block (one residual block), "
                    + "stage (blocks of equal width and resolution) or net. Default: ${DEFAULT-VALUE}.")
    String share;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--atoms", paramLabel = "M", defaultValue = "auto",
            description = "Atoms per block of a spatial kernel (default auto: 6 for 3x3, 14 for 5x5, 38 for 7x7, "
                    + "ceil(2/3*kh*kw) otherwise; capped by each set's rank; 1x1 convs follow --pointwise). kh*kw with one block per conv (--group of the "
                    + "widest conv) reproduces the weights exactly.")
    String atoms;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--pointwise", paramLabel = "F|dense|full", defaultValue = "0.25",
            description = "1x1 convs are factored into a rank-r product whose input side the convs of a sharing set "
                    + "that read the same width share; r keeps about F of their weights (default ${DEFAULT-VALUE}; "
                    + "--set-atoms sets a set's rank by hand). dense keeps every 1x1 conv as it is; full factors each at "
                    + "its full rank, which reproduces it exactly.")
    String pointwise;

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--set-atoms", paramLabel = "SET=M[,SET=M...]",
            description = "Per sharing set (by the id the plan and the report's sets[] give it), M atoms or dense "
                    + "instead of --atoms; sets not named follow --atoms. A --target-size plan prints its allocation in "
                    + "this form, so it can be rerun (with the same --share) or edited by hand. Excludes --target-size and "
                    + "--target-drop.")
    String setAtoms;

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--group", paramLabel = "auto|N", defaultValue = "auto",
            description = "Channel-group size of a block (default auto: the largest power of two <= 64 dividing "
                    + "every conv width of 8 or more).")
    String group;

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--form", paramLabel = "FORM", defaultValue = "reconstruct",
            description = "reconstruct (kernel rebuilt from the factors, folded by the runtime at load: same speed) "
                    + "or factorized (atom conv + 1x1 coefficient conv: fewer MACs when m/g + m/(kh*kw) < 1). "
                    + "Default: ${DEFAULT-VALUE}.")
    String form;

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--exclude", paramLabel = "REGEX", description = "Keep convolutions whose name matches dense.")
    String exclude;

    @Setting(stage = Setting.Stage.INPUT)
    @Option(names = "--allow-nonfinite", description = "Go on when weights hold NaN or Inf: those convolutions stay "
            + "dense and the values are left as they are (default: refuse, naming the tensors).")
    boolean allowNonfinite;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output model (default: MODEL.acdc.onnx).")
    Path output;

    @Setting(stage = Setting.Stage.WRITE, recorded = false)
    @Option(names = "--report", paramLabel = "FILE.json",
            description = "JSON report (default: the output's name with .report.json).")
    Path report;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--max-drop", paramLabel = "PTS", description = "With --eval-data: exit 1 when the written "
            + "model's top-1 is more than PTS points below the original's (the model and reports are still written, "
            + "as acdc validate judges a model it is given).")
    Double maxDrop;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--eval-data", paramLabel = "SPEC",
            description = "After compressing, validate against the original on this data set (same SPEC and "
                    + "preprocessing options as acdc validate) and put the result in the report.")
    String evalData;

    @Mixin
    DataOptions dataOptions;

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.BASIC)
    @Option(names = "--train-data", paramLabel = "SPEC",
            description = "Fine-tune the compressed model on this data by distillation from the original "
                    + "(fit -> fine-tune -> export -> validate in one go); see the training options.")
    String trainData;

    @Mixin
    TrainCliOptions train;

    @Setting(stage = Setting.Stage.FIT)
    @Option(names = "--fit", paramLabel = "svd|output",
            description = "How the factors are fitted: svd (truncated SVD of the weights, no data) or output (match "
                    + "each conv's output on calibration images, in order through the network, starting from the SVD "
                    + "fit, then correct each channel's mean shift). Default: output when calibration data are given "
                    + "(--calibration-data, or --train-data), else svd.")
    String fit;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--target-size", paramLabel = "F",
            description = "Allocate atoms per sharing set (or keep a set dense) so that the output has at most F times "
                    + "the input's bytes (within 2 %% below), minimising the summed SVD error of the convolutions (each "
                    + "relative to its kernel); that allocation, the same with no set below the uniform count or one "
                    + "step below it, the same with each conv's error weighted by its size (more atoms to wide convs), "
                    + "and the largest uniform --atoms that fits are compressed with the run's fit and "
                    + "compared on the calibration images, and the one that agrees with the original most often is "
                    + "kept; the plan says whether its lead over the next best is larger than the noise of that many "
                    + "images. The size counts what a fine-tune adds. Needs --calibration-data or --train-data. --atoms "
                    + "is then ignored; the plan is printed and in the report.")
    Double targetSize;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--target-drop", paramLabel = "PTS",
            description = "Search the smallest --target-size (fractions 0.02 to 0.8 of the input's bytes, by bisection, "
                    + "up to 8 sizes, each a whole --target-size plan) whose kept allocation's predicted top-1 drop on the "
                    + "calibration images, with the run's fit and before any fine-tune, is at most PTS points: the "
                    + "original's top-1 there less the candidate's when the images are labelled, else the share of "
                    + "images on which the two disagree (a bound). If even 0.8 misses it, exit 1 and nothing is "
                    + "written. With labelled --eval-data the written model is then validated and, as --max-drop PTS "
                    + "does (unless --max-drop is given), exit 1 when its measured drop is larger (the model is "
                    + "written). Needs --calibration-data or --train-data; excludes --target-size.")
    Double targetDrop;

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.RESEARCH)
    @Option(names = "--filter-norm", paramLabel = "R", defaultValue = "1",
            description = "With --train-data and --batch-norm train: before the fit, scale every conv's output filters "
                    + "to L2 norm R and let the training BN carry the scale (the function is unchanged), so that neither "
                    + "the fit's weighting nor a filter's effective learning rate depends on the gamma/sigma that BN "
                    + "folding left in it. 0: off, fit and train the weights as they are (default ${DEFAULT-VALUE}; "
                    + "see docs/finetune.md).")
    double filterNorm;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC)
    @Option(names = "--calibration-data", paramLabel = "SPEC",
            description = "Images for the output fit (any data spec; labels, if any, only stratify the sample). "
                    + "Default: --train-data when given. Same preprocessing options as the other data.")
    String calibrationData;

    @Setting(stage = Setting.Stage.DATA)
    @Option(names = "--calibration-images", paramLabel = "N", defaultValue = "512",
            description = "Images the output fit uses: a seeded sample, stratified by class when labelled "
                    + "(default ${DEFAULT-VALUE}; all of them if the set is smaller).")
    int calibrationImages;

    @Setting(stage = Setting.Stage.DATA)
    @Option(names = "--calibration-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the calibration sample (default ${DEFAULT-VALUE}).")
    long calibrationSeed;

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--sensitivity-images", paramLabel = "auto|N", defaultValue = "auto",
            description = "With calibration data, the report's per-set sensitivity table and chart (each set alone "
                    + "compressed at 1, 2, 3, 4, 6, 9 atoms, SVD fit: KL and top-1 agreement with the original) is "
                    + "measured on a seeded, stratified sample of this many calibration images; 0 skips it (a "
                    + "compression and an ONNX Runtime pass per point). Default auto: "
                    + CompressionJob.Calibration.SENSITIVITY_IMAGES + " images where the sweep costs at most 1e13 "
                    + "multiply-adds (the CIFAR ResNets), fewer on a larger model, none where fewer than "
                    + CompressionJob.Calibration.SENSITIVITY_MIN_IMAGES + " would fit (ImageNet ResNet-50); "
                    + "the run says which.")
    String sensitivityImagesOption;

    @Setting(stage = Setting.Stage.RECOVERY, level = Setting.Level.BASIC)
    @Option(names = "--recovery", paramLabel = "auto|on|off|KEY=V,..", defaultValue = "auto",
            description = "Block recovery between the fit and the fine-tune: the model is cut where all data flow "
                    + "through one tensor (a ResNet's block outputs), and each segment holding decomposed convs is "
                    + "trained to reproduce the original's output of that segment on the calibration images (no "
                    + "labels); one image in 8 judges each segment, which keeps its fitted weights unless recovery "
                    + "lowered its error. auto: on when calibration images are given and no fine-tune follows, where "
                    + "it is estimated to take at most 10 minutes; on: always, with the defaults; or keys over "
                    + "the defaults: mode=sequential|original|graft (inputs from the recovered prefix or the "
                    + "original; graft: from the prefix, with the original's rest of the network after the "
                    + "segment and the loss on the logits), epochs=N (passes per segment, 20), batch=N (32), "
                    + "lr=R (0.01), holdout=N (8), tail=on|off (the classifier after the last segment, on the "
                    + "logits), budget=MIN. "
                    + "Default ${DEFAULT-VALUE}.")
    String recovery;

    @Setting(stage = Setting.Stage.FIT, level = Setting.Level.RESEARCH)
    @Option(names = "--fit-iterations", paramLabel = "N", defaultValue = "" + OutputFitter.ITERATIONS,
            description = "Alternating least-squares iterations per sharing set of the output fit, at most "
                    + "(default ${DEFAULT-VALUE}; it stops early when the error improves by less than 1e-5).")
    int fitIterations;

    @Setting(stage = Setting.Stage.FIT, level = Setting.Level.RESEARCH)
    @Option(names = "--fit-target", paramLabel = "sum|conv", defaultValue = "sum",
            description = "What the output fit matches: conv (each conv's own output) or sum (a conv that feeds a "
                    + "residual Add matches that sum, so it also corrects the error the shortcut carries; other convs "
                    + "match their output). Default: ${DEFAULT-VALUE}.")
    String fitTarget;

    @Setting(stage = Setting.Stage.QUANTIZE, level = Setting.Level.BASIC)
    @Option(names = "--quantize", paramLabel = "int8-weights|int8",
            description = "After the fit (and fine-tune), quantize the model to int8 as acdc quantize does: int8-weights "
                    + "(the ACDC coefficients and atoms and every dense weight as int8) or int8 (activations too, "
                    + "calibrated on the calibration images: needs --calibration-data or --train-data). The report "
                    + "shows the float and the int8 model side by side.")
    String quantizeMode;

    @Mixin
    QuantizeOptions quantize;

    @Setting(stage = Setting.Stage.INPUT)
    @Option(names = "--input-shape", paramLabel = "N,C,H,W",
            description = "Input shape for MAC counts and the probe (default: declared; a symbolic batch = 1, an open H "
                    + "or W = 224).")
    String inputShape;

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
        Settings settings = Settings.of(share, atoms, group, form, exclude).allowingNonfinite(allowNonfinite)
                .withMethod(method).withPointwise(Settings.parsePointwise(pointwise));
        if (setAtoms != null) {
            if (targetDrop != null) {
                throw new AcdcException("--set-atoms and --target-drop both choose the atoms per set: give one of them");
            }
            settings = settings.withSetAtoms(Settings.parseSetAtoms(setAtoms));
        }
        if (trainData != null) {
            train.options(trainData); // bad training options fail before any work
        }
        if (evalData != null) {
            dataOptions.preprocessing(); // bad preprocessing options fail before any work
        }
        String calibSpec = calibrationData != null ? calibrationData : trainData;
        CompressionJob.Fit fitMode = fit == null ? (calibSpec != null ? CompressionJob.Fit.OUTPUT : CompressionJob.Fit.SVD)
                : CompressionJob.Fit.parse(fit);
        if (!fitTarget.equals("sum") && !fitTarget.equals("conv")) {
            throw new AcdcException("--fit-target must be sum or conv, got '" + fitTarget + "'");
        }
        if (maxDrop != null && !(maxDrop >= 0 && maxDrop <= 100)) {
            throw new AcdcException("--max-drop must be between 0 and 100 points, got " + maxDrop);
        }
        if (maxDrop != null && evalData == null) {
            throw new AcdcException("--max-drop needs --eval-data SPEC (labelled) to measure the drop on");
        }
        if (!(filterNorm >= 0 && filterNorm < Double.POSITIVE_INFINITY)) {
            throw new AcdcException("--filter-norm must be a finite norm, 0 (off) or more, got " + filterNorm);
        }
        Quantization.Request quantizeRequest = null;
        dev.acdc.decompose.FileEncoding encoding = dev.acdc.decompose.FileEncoding.PLAIN;
        if (quantizeMode != null) {
            quantizeRequest = quantize.request(Quantizer.Mode.parse(quantizeMode));
        } else if (quantize.anyInt8Given()) {
            throw new AcdcException("--calibration-method, --percentile, --quantize-exclude and --coefficient-scales "
                    + "apply with --quantize only");
        } else {
            encoding = quantize.encoding();
        }
        CompressionJob.Calibration.check(calibrationImages, fitIterations);
        int sensitivityImages = sensitivityImagesOption.trim().equalsIgnoreCase("auto")
                ? CompressionJob.Calibration.AUTO : Options.count("--sensitivity-images", sensitivityImagesOption);
        CompressionJob.Calibration.checkSensitivity(sensitivityImages);
        CompressionJob.Request.check(settings, fitMode, calibSpec != null, targetSize,
                quantizeRequest == null ? null : quantizeRequest.mode(), trainData != null);
        CompressionJob.Request.checkTargetDrop(targetDrop, targetSize, calibSpec != null);
        // no output may land on the model, on any data file the run reads, or on another output
        OutputGuard guard = new OutputGuard().reads(model).readsData(calibSpec).readsData(trainData).readsData(evalData);
        OutputFiles.Outputs outs = OutputFiles.Outputs.of(guard, output != null ? output : OutputFiles.compressedName(model), report);
        if (trainData != null) {
            guard.checkpointFolder(train.checkpoint, dev.acdc.train.Checkpoint.FILES);
        }
        long[] shape = Options.parseShape(inputShape);
        boolean autoRecovery = recovery.trim().equalsIgnoreCase("auto");
        // auto: where calibration images reach the output fit and no fine-tune follows (with one, recovery's
        // gain after 2 epochs was within the noise of the fine-tune given the same time; docs/lab/results-log.md)
        // (and where the training engine is there: a class path without ND4J compresses without recovery)
        dev.acdc.runtime.recovery.BlockRecovery.Options recoveryOptions = autoRecovery
                && (calibSpec == null || trainData != null || fitMode != CompressionJob.Fit.OUTPUT
                || !dev.acdc.train.TrainingEngine.available()) ? null
                : dev.acdc.runtime.recovery.BlockRecovery.Options.parse(recovery);
        if (recoveryOptions != null && calibSpec == null) {
            throw new AcdcException("--recovery needs calibration images: give --calibration-data SPEC (or --train-data)");
        }
        if (recoveryOptions != null) {
            // finished segments kept in --checkpoint DIR as they finish, else beside the output on Ctrl-C only
            if (train.resume && train.checkpoint == null) {
                throw new AcdcException("--resume needs --checkpoint DIR: the folder the stopped run named");
            }
            Path folder = train.checkpoint != null
                    ? guard.checkpointFolder(train.checkpoint, dev.acdc.runtime.recovery.RecoveryCheckpoint.FILES)
                    : OutputFiles.siblingWithSuffix(outs.model(), ".checkpoint");
            recoveryOptions = recoveryOptions.withCheckpoint(new dev.acdc.runtime.recovery.RecoveryCheckpoint(folder,
                    train.checkpoint != null, train.resume));
        }
        boolean calibrate = recoveryOptions != null || fitMode == CompressionJob.Fit.OUTPUT || targetSize != null || targetDrop != null
                || (quantizeRequest != null && calibSpec != null);
        Preprocessing pre = trainData != null || evalData != null || calibrate ? dataOptions.preprocessing() : null;

        CompressionJob.Outcome o;
        try (Dataset calibAll = calibrate ? dataOptions.open(calibSpec) : null;
             Dataset trainAll = trainData != null ? dataOptions.open(trainData) : null;
             Dataset evalAll = evalData != null ? dataOptions.open(evalData) : null) {
            Dataset eval = evalAll == null ? null : dataOptions.sample(evalAll, "evaluation", null);
            CompressionJob.Request request = new CompressionJob.Request(model, settings, fitMode,
                    calibAll == null ? null : new CompressionJob.Calibration(calibAll, pre, calibrationImages,
                            calibrationSeed, fitIterations, fitTarget.equals("sum"), sensitivityImages),
                    targetSize, filterNorm,
                    trainAll == null ? null : FineTuning.settings(trainAll, eval, pre, train, dataOptions, outs.model()),
                    quantizeRequest,
                    eval == null ? null : new CompressionJob.Evaluation(eval, pre, ValidationText.options(dataOptions)),
                    shape, outs, Reports.provenance(spec, pre), encoding, targetDrop, dataOptions.runtime.strict, recoveryOptions);
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
                        o.floatBytes(), 100 * fv.candidateTop1(), quantizeRequest.mode().id(), o.bytes().length,
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
        if (maxDrop != null) {
            if (!validation.labels()) {
                throw new AcdcException("--max-drop needs labels, and the --eval-data have none");
            }
            if (!(validation.drop() <= maxDrop)) { // a NaN drop fails too
                err.printf("acdc: top-1 dropped %.2f points, more than --max-drop %.2f (the model is written)%n",
                        validation.drop(), maxDrop);
                return AcdcException.CHECK_FAILED;
            }
        } else if (targetDrop != null && validation != null && validation.labels() && !(validation.drop() <= targetDrop)) {
            err.printf("acdc: top-1 dropped %.2f points on the evaluation data, more than --target-drop %.2f "
                    + "predicted on the calibration images (the model is written)%n", validation.drop(), targetDrop);
            return AcdcException.CHECK_FAILED;
        }
        return 0;
    }
}
