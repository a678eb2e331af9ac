package dev.acdc.cli;

import dev.acdc.report.ReportSchema;

import dev.acdc.runtime.workflow.OutputGuard;

import dev.acdc.runtime.workflow.OutputFiles;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.quantize.Quantizer;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.quantize.Quantization;
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
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc quantize}: int8 weights (and activations) in standard ONNX operators, verified and reported. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a CNN (decomposed by acdc or not) to int8 in standard opset-13 operators that ONNX "
                + "Runtime runs unchanged: int8-weights stores every Conv/Gemm/MatMul weight (and ACDC's coefficients "
                + "and atoms) as int8 per output channel with a DequantizeLinear (about a quarter of the float bytes, "
                + "activations float); int8 also quantizes the activations (uint8 per tensor, ranges calibrated on "
                + "--calibration-data) in the QDQ format ONNX Runtime fuses into its int8 kernels. The output is "
                + "checked in ONNX Runtime before it is written; reports give each layer's output error against the "
                + "float model and, with --eval-data, the accuracy of both.")
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "MODEL.onnx", description = "The float model to quantize.")
    Path model;

    @Option(names = "--mode", paramLabel = "int8|int8-weights",
            description = "int8 (weights and activations; needs --calibration-data) or int8-weights (weights only). "
                    + "Default: int8 when --calibration-data is given, else int8-weights.")
    String mode;

    @Option(names = "--calibration-data", paramLabel = "SPEC",
            description = "Images whose activation ranges the int8 mode uses (any data spec; labels only stratify the "
                    + "sample); also where each layer's error is measured. Same preprocessing options as --eval-data.")
    String calibrationData;

    @Option(names = "--calibration-images", paramLabel = "N", defaultValue = "512",
            description = "Images of the calibration sample: seeded, stratified by class when labelled "
                    + "(default ${DEFAULT-VALUE}).")
    int calibrationImages;

    @Option(names = "--calibration-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the calibration sample (default ${DEFAULT-VALUE}).")
    long calibrationSeed;

    @Mixin
    QuantizeOptions quantize;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output model (default: MODEL.int8.onnx, "
            + "or MODEL.int8-weights.onnx).")
    Path output;

    @Option(names = "--report", paramLabel = "FILE.json",
            description = "JSON report (default: the output's name with .report.json; .md and .html beside it).")
    Path report;

    @Option(names = "--eval-data", paramLabel = "SPEC",
            description = "Validate the quantized model against the float one on these data (as acdc validate).")
    String evalData;

    @Option(names = "--max-drop", paramLabel = "PTS", description = "With --eval-data: exit 1 when top-1 is more than "
            + "PTS points below the float model's (the model and reports are still written).")
    Double maxDrop;

    @Mixin
    DataOptions dataOptions;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Quantizer.Mode m = mode != null ? Quantizer.Mode.parse(mode)
                : calibrationData != null ? Quantizer.Mode.STATIC : Quantizer.Mode.WEIGHTS;
        Quantization.Request req = quantize.request(m);
        if (m == Quantizer.Mode.STATIC && calibrationData == null) {
            throw new AcdcException("--mode int8 needs calibration images: give --calibration-data SPEC");
        }
        if (calibrationImages < 1) {
            throw new AcdcException("--calibration-images must be at least 1, got " + calibrationImages);
        }
        if (maxDrop != null && !(maxDrop >= 0 && maxDrop <= 100)) {
            throw new AcdcException("--max-drop must be between 0 and 100 points, got " + maxDrop);
        }
        if (maxDrop != null && evalData == null) {
            throw new AcdcException("--max-drop needs --eval-data SPEC (labelled) to measure the drop on");
        }
        if (evalData != null || calibrationData != null) {
            dataOptions.preprocessing(); // bad preprocessing options fail before any work
        }
        OutputGuard guard = new OutputGuard().reads(model).readsData(calibrationData).readsData(evalData);
        OutputFiles.Outputs outs = OutputFiles.Outputs.of(guard,
                output != null ? output : OutputFiles.siblingWithSuffix(model, "." + m.id() + ".onnx"), report);

        long t0 = System.nanoTime();
        err.println("acdc: loading " + model);
        byte[] originalBytes = OutputFiles.readAll(model);
        Model original = OnnxModels.load(model);
        ModelSummary before = ModelSummary.of(original, null, originalBytes.length);
        CalibrationImages images = null;
        if (calibrationData != null) {
            try (Dataset ds = dataOptions.open(calibrationData)) {
                images = CalibrationImages.sample(ds, dataOptions.preprocessing(), calibrationImages, calibrationSeed);
                err.println("acdc: calibration images: " + images.subset().describe() + " of " + ds.describe());
            }
        }
        Quantization.Outcome q = Quantization.run(original, req, images, Interrupts.progress(err));
        byte[] bytes = OnnxModels.toBytes(q.model());
        ModelSummary after = ModelSummary.of(q.model(), null, bytes.length);
        double quantizeSeconds = (System.nanoTime() - t0) / 1e9;

        long[] probeShape = before.inputShape().clone();
        probeShape[0] = Math.max(2, probeShape[0]);
        err.println("acdc: checking the output in ONNX Runtime on a probe batch " + java.util.Arrays.toString(probeShape));
        Probe.Comparison probe = Probe.compare(originalBytes, bytes, probeShape, 1234);

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", "quantize");
        json.put("input", model.toString());
        json.put("output", outs.model().toString());
        json.put("inputBytes", originalBytes.length);
        json.put("outputBytes", bytes.length);
        json.put("inputParams", before.params());
        json.put("outputParams", after.params());
        json.put("quantization", q.json());
        Map<String, Object> verification = new LinkedHashMap<>(probe.json());
        verification.put("runtime", "onnxruntime (CPU)");
        verification.put("note", "random-input probe: it shows the model loads and runs; random inputs fall outside the "
                + "calibrated ranges, so the differences say little about accuracy");
        json.put("verification", verification);
        ValidationResult validation = null;
        if (evalData != null) {
            Preprocessing pre = dataOptions.preprocessing();
            try (Dataset all = dataOptions.open(evalData)) {
                Dataset ds = dataOptions.sample(all, "evaluation", null);
                err.println("acdc: validating on " + ds.describe());
                validation = ValidationText.run(originalBytes, bytes, ds, pre, dataOptions, err);
            }
            json.put("validation", validation.json());
        }
        String verdict = verdict(originalBytes.length, bytes.length, validation);
        json.put("verdict", verdict);
        String warning = bytes.length >= originalBytes.length ? String.format(Locale.ROOT, "the %s model (%,d bytes) is "
                + "not smaller than its input (%,d bytes): on a model this small the quantization's nodes, scales and "
                + "zero points outweigh the int8 weights%s", m.id(), bytes.length, originalBytes.length,
                m == Quantizer.Mode.STATIC ? "; --mode int8-weights stores less" : "") : null;
        if (warning != null) {
            json.put("warnings", java.util.List.of(warning));
        }
        json.put("seconds", quantizeSeconds);

        try (dev.acdc.onnx.AtomicFiles.Staged staged = new dev.acdc.onnx.AtomicFiles.Staged()) {
            staged.stage(outs.model(), bytes, model, dev.acdc.runtime.WrittenModelCheck.againstOutputs(probe.input(),
                    probe.candidateOutput(), probeShape, Interrupts.progress(err)));
            Map<String, Object> doc = ReportSchema.stamp("quantize", Reports.provenance(spec,
                    calibrationData != null || evalData != null ? dataOptions.preprocessing() : null), json);
            staged.stage(outs.report(), Json.write(doc) + "\n");
            ReportSchema.Rendered rendered = ReportSchema.render(doc);
            staged.stage(outs.markdown(), rendered.markdown());
            staged.stage(outs.html(), rendered.html());
            Interrupts.checkpoint();
            staged.commit();
        }

        out.print(QuantizationText.summary(q, originalBytes.length, bytes.length));
        if (validation != null) {
            out.println();
            out.print(ValidationText.render(validation, model.getFileName().toString(),
                    outs.model().getFileName().toString()));
        }
        out.println("verdict: " + verdict);
        if (warning != null) {
            out.println("warning: " + warning);
        }
        out.printf("wrote %s (%d bytes); reports %s, %s, %s%n", outs.model(), bytes.length, outs.report(),
                outs.markdown().getFileName(), outs.html().getFileName());
        out.flush();
        if (maxDrop != null) {
            if (!validation.labels()) {
                throw new AcdcException("--max-drop needs labels, and the --eval-data have none");
            }
            if (!(validation.drop() <= maxDrop)) {
                err.printf("acdc: top-1 dropped %.2f points, more than --max-drop %.2f (the model is written)%n",
                        validation.drop(), maxDrop);
                return AcdcException.CHECK_FAILED;
            }
        }
        return 0;
    }

    static String verdict(long bytesBefore, long bytesAfter, ValidationResult v) {
        String size = String.format(Locale.ROOT, "%.1fx smaller", (double) bytesBefore / Math.max(1, bytesAfter));
        if (v == null) {
            return "not validated (no --eval-data): accuracy unknown, " + size;
        }
        return Double.isNaN(v.drop())
                ? String.format(Locale.ROOT, "agreement %.1f %% with the float model, %s", 100 * v.agreement(), size)
                : String.format(Locale.ROOT, "top-1 %+.2f points, %s", -v.drop() + 0.0, size); // + 0.0: no "-0.00"
    }

}
