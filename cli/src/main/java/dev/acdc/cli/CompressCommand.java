package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.decompose.CompressionReport;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.OutputFitter;
import dev.acdc.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc compress} / {@code acdc-compress}: decompose, export, verify, report. */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Decompose every spatial convolution of an ONNX CNN into per-block atoms and shared "
                + "coefficients (ACDC), fitted by truncated SVD or, with calibration images, to reproduce the "
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

    @Option(names = "--share", paramLabel = "SCOPE", defaultValue = "layer",
            description = "Which blocks share one coefficient tensor: layer (one conv), block (one residual block), "
                    + "stage (blocks of equal width and resolution) or net. Default: ${DEFAULT-VALUE}.")
    String share;

    @Option(names = "--atoms", paramLabel = "M", defaultValue = "auto",
            description = "Atoms per block (default auto: 6 for 3x3, 14 for 5x5, 38 for 7x7, ceil(2/3*kh*kw) "
                    + "otherwise; capped by each set's rank). kh*kw with one block per conv (--group of the "
                    + "widest conv) reproduces the weights exactly.")
    String atoms;

    @Option(names = "--group", paramLabel = "auto|N", defaultValue = "auto",
            description = "Channel-group size of a block (default auto: the largest power of two <= 64 dividing "
                    + "every conv width of 8 or more).")
    String group;

    @Option(names = "--form", paramLabel = "FORM", defaultValue = "reconstruct",
            description = "reconstruct (kernel rebuilt from the factors, folded by the runtime at load: same speed) "
                    + "or factorized (atom conv + 1x1 coefficient conv: fewer MACs when m/g + m/(kh*kw) < 1). "
                    + "Default: ${DEFAULT-VALUE}.")
    String form;

    @Option(names = "--exclude", paramLabel = "REGEX", description = "Keep convolutions whose name matches dense.")
    String exclude;

    @Option(names = "--allow-nonfinite", description = "Go on when weights hold NaN or Inf: those convolutions stay "
            + "dense and the values are left as they are (default: refuse, naming the tensors).")
    boolean allowNonfinite;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output model (default: MODEL.acdc.onnx).")
    Path output;

    @Option(names = "--report", paramLabel = "FILE.json",
            description = "JSON report (default: the output's name with .report.json).")
    Path report;

    @Option(names = "--max-drop", paramLabel = "PTS", description = "With --eval-data: exit 1 when the written "
            + "model's top-1 is more than PTS points below the original's (the model and reports are still written, "
            + "as acdc validate judges a model it is given).")
    Double maxDrop;

    @Option(names = "--eval-data", paramLabel = "SPEC",
            description = "After compressing, validate against the original on this data set (same SPEC and "
                    + "preprocessing options as acdc validate) and put the result in the report.")
    String evalData;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--train-data", paramLabel = "SPEC",
            description = "Fine-tune the compressed model on this data by distillation from the original "
                    + "(fit -> fine-tune -> export -> validate in one go); see the training options.")
    String trainData;

    @Mixin
    TrainCliOptions train;

    @Option(names = "--fit", paramLabel = "svd|output",
            description = "How the factors are fitted: svd (truncated SVD of the weights, no data) or output (match "
                    + "each conv's output on calibration images, in order through the network, starting from the SVD "
                    + "fit, then correct each channel's mean shift). Default: output when calibration data are given "
                    + "(--calibration-data, or --train-data), else svd.")
    String fit;

    @Option(names = "--target-size", paramLabel = "F",
            description = "Allocate atoms per sharing set (or keep a set dense) so that the output has at most F times "
                    + "the input's bytes, minimising the output error predicted by a sensitivity analysis on the "
                    + "calibration images (acdc sensitivity); needs --calibration-data or --train-data. --atoms is then "
                    + "ignored; the plan is printed and in the report.")
    Double targetSize;

    @Option(names = "--filter-norm", paramLabel = "R", defaultValue = "1",
            description = "With --train-data and --batch-norm train: before the fit, scale every conv's output filters "
                    + "to L2 norm R and let the training BN carry the scale (the function is unchanged), so that neither "
                    + "the fit's weighting nor a filter's effective learning rate depends on the gamma/sigma that BN "
                    + "folding left in it. 0: off, fit and train the weights as they are (default ${DEFAULT-VALUE}; "
                    + "see docs/finetune.md).")
    double filterNorm;

    @Option(names = "--calibration-data", paramLabel = "SPEC",
            description = "Images for the output fit (any data spec; labels, if any, only stratify the sample). "
                    + "Default: --train-data when given. Same preprocessing options as the other data.")
    String calibrationData;

    @Option(names = "--calibration-images", paramLabel = "N", defaultValue = "512",
            description = "Images the output fit uses: a seeded sample, stratified by class when labelled "
                    + "(default ${DEFAULT-VALUE}; all of them if the set is smaller).")
    int calibrationImages;

    @Option(names = "--calibration-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the calibration sample (default ${DEFAULT-VALUE}).")
    long calibrationSeed;

    @Option(names = "--fit-iterations", paramLabel = "N", defaultValue = "" + OutputFitter.ITERATIONS,
            description = "Alternating least-squares iterations per sharing set of the output fit, at most "
                    + "(default ${DEFAULT-VALUE}; it stops early when the error improves by less than 1e-5).")
    int fitIterations;

    @Option(names = "--fit-target", paramLabel = "sum|conv", defaultValue = "sum",
            description = "What the output fit matches: conv (each conv's own output) or sum (a conv that feeds a "
                    + "residual Add matches that sum, so it also corrects the error the shortcut carries; other convs "
                    + "match their output). Default: ${DEFAULT-VALUE}.")
    String fitTarget;

    @Option(names = "--quantize", paramLabel = "int8-weights|int8",
            description = "After the fit (and fine-tune), quantize the model to int8 as acdc quantize does: int8-weights "
                    + "(the ACDC coefficients and atoms and every dense weight as int8) or int8 (activations too, "
                    + "calibrated on the calibration images: needs --calibration-data or --train-data). The report "
                    + "shows the float and the int8 model side by side.")
    String quantizeMode;

    @Mixin
    QuantizeOptions quantize;

    @Option(names = "--input-shape", paramLabel = "N,C,H,W",
            description = "Input shape for MAC counts and the probe (default: declared, symbolic batch = 1).")
    String inputShape;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Settings settings = Settings.of(share, atoms, group, form, exclude).allowingNonfinite(allowNonfinite);
        if (trainData != null) {
            train.options(trainData); // bad training options fail before any work
            if (settings.form() != dev.acdc.decompose.ExportForm.RECONSTRUCT) {
                throw new AcdcException("--train-data needs --form reconstruct (fine-tune, then re-export factorized)");
            }
        }
        if (evalData != null) {
            dataOptions.preprocessing(); // bad preprocessing options fail before any work
        }
        String calibSpec = calibrationData != null ? calibrationData : trainData;
        String fitMode = fit == null ? (calibSpec != null ? "output" : "svd") : fit.toLowerCase(java.util.Locale.ROOT);
        if (!fitMode.equals("svd") && !fitMode.equals("output")) {
            throw new AcdcException("--fit must be svd or output, got '" + fit + "'");
        }
        if (fitMode.equals("output") && calibSpec == null) {
            throw new AcdcException("--fit output needs calibration images: give --calibration-data SPEC (or --train-data)");
        }
        if (!fitTarget.equals("sum") && !fitTarget.equals("conv")) {
            throw new AcdcException("--fit-target must be sum or conv, got '" + fitTarget + "'");
        }
        if (fitIterations < 0 || fitIterations > 10000) {
            throw new AcdcException("--fit-iterations must be between 0 and 10000, got " + fitIterations);
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
        if (targetSize != null && !(targetSize > 0 && targetSize <= 1)) {
            throw new AcdcException("--target-size must be a fraction of the input's bytes in (0, 1], got " + targetSize);
        }
        if (targetSize != null && calibSpec == null) {
            throw new AcdcException("--target-size needs calibration images for its sensitivity analysis: give "
                    + "--calibration-data SPEC (or --train-data)");
        }
        dev.acdc.runtime.quantize.Quantization.Request quantizeRequest = null;
        if (quantizeMode != null) {
            quantizeRequest = quantize.request(dev.acdc.quantize.Quantizer.Mode.parse(quantizeMode));
            if (quantizeRequest.mode() == dev.acdc.quantize.Quantizer.Mode.STATIC && calibSpec == null) {
                throw new AcdcException("--quantize int8 needs calibration images for the activation ranges: give "
                        + "--calibration-data SPEC (or --train-data)");
            }
        } else if (quantize.anyGiven()) {
            throw new AcdcException("--calibration-method, --percentile, --quantize-exclude, --coefficient-scales and "
                    + "--compact-names apply with --quantize only");
        }
        if (calibrationImages < 1) {
            throw new AcdcException("--calibration-images must be at least 1, got " + calibrationImages);
        }
        // no output may land on the model, on any data file the run reads, or on another output
        OutputGuard guard = new OutputGuard().reads(model).readsData(calibSpec).readsData(trainData).readsData(evalData);
        ModelFiles.Outputs outs = ModelFiles.Outputs.of(guard, output != null ? output : defaultOutput(model), report);
        if (trainData != null) {
            guard.checkpointFolder(train.checkpoint, dev.acdc.train.Checkpoint.FILES);
        }
        Path out1 = outs.model();
        Path rep = outs.report();
        long[] shape = Options.parseShape(inputShape);

        long t0 = System.nanoTime();
        err.println("acdc: loading " + model);
        byte[] originalBytes = ModelFiles.readAll(model);
        Model m = OnnxModels.load(model);
        dev.acdc.quantize.Quantizer.requireFloat(m, "compress");
        ModelSummary before = ModelSummary.of(m, shape, originalBytes.length);
        double loadSeconds = (System.nanoTime() - t0) / 1e9;

        OutputFitter fitter = null;
        List<String> budgetLines = List.of();
        CalibrationImages images = null;
        if (fitMode.equals("output") || targetSize != null || (quantizeRequest != null && calibSpec != null)) {
            dev.acdc.data.Preprocessing pre = dataOptions.preprocessing();
            try (dev.acdc.data.Dataset ds = dataOptions.open(calibSpec)) {
                images = CalibrationImages.sample(ds, pre, calibrationImages, calibrationSeed);
                err.println("acdc: calibration images: " + images.subset().describe() + " of " + ds.describe());
            }
            if (targetSize != null) {
                err.println("acdc: sensitivity analysis for --target-size " + targetSize);
                dev.acdc.runtime.calibration.SizeTarget.Result plan = dev.acdc.runtime.calibration.SizeTarget.plan(m,
                        originalBytes.length, targetSize, settings, images,
                        dev.acdc.runtime.calibration.Sensitivity.CANDIDATES_3X3,
                        trainData != null && train.options().trainingBatchNorm(), Interrupts.progress(err));
                settings = plan.settings();
                List<String> lines = new java.util.ArrayList<>();
                lines.add(String.format(java.util.Locale.ROOT, "atom budget for --target-size %s (%,d bytes): "
                        + "predicted KL %.3f (the sets' single-set errors summed)", targetSize, plan.targetBytes(),
                        plan.predictedKl()));
                for (String l : plan.planLines()) {
                    lines.add("atom budget: " + l);
                }
                budgetLines = lines;
                for (String l : lines) {
                    err.println("acdc: " + l);
                }
            }
            if (fitMode.equals("output")) {
                fitter = new OutputFitter(images, 64, fitIterations, fitTarget.equals("sum"));
            }
        }
        if (trainData != null && filterNorm > 0 && train.options().trainingBatchNorm()) {
            dev.acdc.passes.PassManager.standard().run(m);
            int n = new dev.acdc.passes.PassManager(java.util.List.of(new dev.acdc.passes.NormalizeFilters(filterNorm))).run(m)
                    .get(0).changes();
            err.println("acdc: filters of " + n + " conv(s) scaled to norm " + filterNorm
                    + " for the fit and the fine-tune (the training BNs carry the scale)");
        }
        Compressor.Result r = Compressor.compress(m, settings, Interrupts.progress(err), fitter);
        r.notes().addAll(budgetLines);
        r.timings().put("load", loadSeconds);
        Map<String, Object> finetune = null;
        if (trainData != null) {
            long tf = System.nanoTime();
            finetune = FineTuning.run(r.model(), originalBytes, trainData, evalData, dataOptions.preprocessing(),
                    train, dataOptions, err, out1);
            r.timings().put("finetune", (System.nanoTime() - tf) / 1e9);
        }

        byte[] floatBytes = OnnxModels.toBytes(r.model());
        Model written = r.model();
        dev.acdc.runtime.quantize.Quantization.Outcome quantized = null;
        if (quantizeRequest != null) {
            long tq = System.nanoTime();
            err.println("acdc: quantizing to " + quantizeRequest.mode().id());
            quantized = dev.acdc.runtime.quantize.Quantization.run(r.model(), quantizeRequest, images,
                    Interrupts.progress(err));
            written = quantized.model();
            r.timings().put("quantize", (System.nanoTime() - tq) / 1e9);
        }
        long t1 = System.nanoTime();
        byte[] bytes = written == r.model() ? floatBytes : OnnxModels.toBytes(written);
        ModelSummary after = ModelSummary.of(written, shape, bytes.length);
        long[] probeShape = before.inputShape().clone();
        if (m.graph().dataInputs().get(0).shape() != null && m.graph().dataInputs().get(0).shape()[0] < 0) {
            probeShape[0] = 2;
        }
        err.println("acdc: verifying the output in ONNX Runtime on a probe batch " + java.util.Arrays.toString(probeShape));
        Probe.Comparison probe = Probe.compare(originalBytes, bytes, probeShape, 1234);
        r.timings().put("verify", (System.nanoTime() - t1) / 1e9);
        requireExactWhereItShouldBe(r, fitter == null && finetune == null && quantized == null, probe);

        CompressionReport report = new CompressionReport(model, before, out1, after, r);
        Map<String, Object> verification = new LinkedHashMap<>(probe.json());
        verification.put("runtime", "onnxruntime (CPU)");
        verification.put("note", "random-input probe: the differences measure the approximation, not accuracy");
        report.put("verification", verification);
        if (fitter != null) {
            report.put("outputFit", fitter.summary());
        }
        if (finetune != null) {
            report.put("finetune", finetune);
            report.put("consistency", FineTuning.consistency(r.model(), floatBytes, err));
        }

        dev.acdc.runtime.ValidationResult validation = null;
        if (evalData != null) {
            long tv = System.nanoTime();
            dev.acdc.data.Preprocessing pre = dataOptions.preprocessing();
            try (dev.acdc.data.Dataset all = dataOptions.open(evalData)) {
                dev.acdc.data.Dataset ds = dataOptions.sample(all, "evaluation", null);
                err.println("acdc: validating on " + ds.describe());
                validation = ValidationText.run(originalBytes, bytes, ds, pre, dataOptions, err);
            }
            report.put("validation", validation.json());
            r.timings().put("validate", (System.nanoTime() - tv) / 1e9);
        }
        if (quantized != null) {
            Map<String, Object> q = new LinkedHashMap<>(quantized.json());
            Map<String, Object> fl = new LinkedHashMap<>();
            fl.put("bytes", floatBytes.length);
            fl.put("quantizedBytes", bytes.length);
            if (validation != null) {
                // the float model on the same evaluation images, so the report shows both
                try (dev.acdc.data.Dataset all = dataOptions.open(evalData)) {
                    dev.acdc.data.Dataset ds = dataOptions.sample(all, "evaluation", null);
                    err.println("acdc: validating the float model before quantization on " + ds.describe());
                    dev.acdc.runtime.ValidationResult fv = ValidationText.run(originalBytes, floatBytes, ds,
                            dataOptions.preprocessing(), dataOptions, err);
                    fl.put("validation", fv.json());
                    if (fv.labels()) {
                        fl.put("top1", fv.candidateTop1());
                        fl.put("quantizedTop1", validation.candidateTop1());
                    }
                }
            }
            q.put("float", fl);
            report.put("quantization", q);
        }

        Verdict verdict = Verdict.of(originalBytes.length, bytes.length, validation,
                fitter == null ? null : fitter.summary(), finetune != null);
        report.put("verdict", verdict.line());
        for (String w : verdict.warnings()) {
            report.note("warning: " + w);
        }

        long t2 = System.nanoTime();
        // the probe already ran the in-memory model on its batch: the written file must give those outputs
        // every output is staged (written, flushed, the model read back) before any takes its name, so a
        // failure on the last one leaves all earlier files of a previous run as they were
        try (dev.acdc.onnx.AtomicFiles.Staged staged = new dev.acdc.onnx.AtomicFiles.Staged()) {
            staged.stage(out1, bytes, model, dev.acdc.runtime.WrittenModelCheck.againstOutputs(probe.input(),
                    probe.candidateOutput(), probeShape, Interrupts.progress(err)));
            r.timings().put("write", (System.nanoTime() - t2) / 1e9);
            r.timings().put("total", (System.nanoTime() - t0) / 1e9);
            staged.stage(rep, Json.write(report.json()) + "\n");
            staged.stage(outs.markdown(), dev.acdc.report.MarkdownReport.render(report.json()));
            staged.stage(outs.html(), dev.acdc.report.HtmlReport.render(report.json()));
            Interrupts.checkpoint(); // the last safe point: after it every output is renamed into place
            staged.commit();
        }

        out.print(report.text());
        out.printf("probe (ONNX Runtime, random batch %s): max |logit diff| %.3g (output scale %.3g), top-1 agreement %.0f %%%n",
                java.util.Arrays.toString(probeShape), probe.maxAbsDiff(), probe.outputScale(), 100 * probe.agreement());
        if (validation != null) {
            out.println();
            out.print(ValidationText.render(validation, model.getFileName().toString(), out1.getFileName().toString()));
        }
        if (quantized != null) {
            out.print(QuantizationText.summary(quantized, floatBytes.length, bytes.length));
            if (report.json().get("quantization") instanceof Map<?, ?> qj && qj.get("float") instanceof Map<?, ?> fl
                    && fl.get("top1") instanceof Number ft) {
                out.printf("float model before quantization: %,d bytes, top-1 %.2f %%; %s: %,d bytes, top-1 %.2f %%%n",
                        floatBytes.length, 100 * ft.doubleValue(), quantizeRequest.mode().id(), bytes.length,
                        100 * validation.candidateTop1());
            }
        }
        out.println("verdict: " + verdict.line());
        for (String w : verdict.warnings()) {
            out.println("warning: " + w);
        }
        out.printf("wrote %s (%d bytes); reports %s, %s, %s%n", out1, bytes.length, rep, outs.markdown().getFileName(),
                outs.html().getFileName());
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
        }
        return 0;
    }

    static Path defaultOutput(Path model) {
        String name = model.getFileName().toString();
        String base = name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
        return model.resolveSibling(base + ".acdc.onnx");
    }

    /**
     * When every kernel is reproduced exactly (an SVD fit of full rank, relative error under 1e-6, nothing
     * trained), the written model must give the original's outputs: a probe that disagrees means the
     * export is wrong (e.g. it decomposed a copy of a weight ONNX Runtime does not use), and nothing is
     * written.
     */
    static void requireExactWhereItShouldBe(Compressor.Result r, boolean weightsOnly, Probe.Comparison probe) {
        if (!weightsOnly || r.plan().decomposed().isEmpty()) {
            return;
        }
        for (dev.acdc.decompose.ConvPlan cp : r.plan().decomposed()) {
            if (!(r.decomposition().relError(cp) < 1e-6)) {
                return;
            }
        }
        double tolerance = 1e-3 * Math.max(1, probe.outputScale());
        if (!(probe.maxAbsDiff() <= tolerance)) {
            throw new AcdcException(String.format(java.util.Locale.ROOT, "every kernel is reproduced exactly "
                    + "(relative error < 1e-6), yet ONNX Runtime's outputs on the probe differ by %.3g (tolerance %.3g): "
                    + "the export does not compute the original; nothing written", probe.maxAbsDiff(), tolerance));
        }
    }

}
