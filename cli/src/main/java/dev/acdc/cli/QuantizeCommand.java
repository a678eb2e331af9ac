package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.quantize.Quantizer;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.runtime.workflow.CompressionJob;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.runtime.workflow.QuantizeJob;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
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

    @Setting(stage = Setting.Stage.QUANTIZE, level = Setting.Level.BASIC)
    @Option(names = "--mode", paramLabel = "int8|int8-weights",
            description = "int8 (weights and activations; needs --calibration-data) or int8-weights (weights only). "
                    + "Default: int8 when --calibration-data is given, else int8-weights.")
    String mode;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC)
    @Option(names = "--calibration-data", paramLabel = "SPEC",
            description = "Images whose activation ranges the int8 mode uses (any data spec; labels only stratify the "
                    + "sample); also where each layer's error is measured. Same preprocessing options as --eval-data.")
    String calibrationData;

    @Setting(stage = Setting.Stage.DATA)
    @Option(names = "--calibration-images", paramLabel = "N", defaultValue = "512",
            description = "Images of the calibration sample: seeded, stratified by class when labelled "
                    + "(default ${DEFAULT-VALUE}).")
    int calibrationImages;

    @Setting(stage = Setting.Stage.DATA)
    @Option(names = "--calibration-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the calibration sample (default ${DEFAULT-VALUE}).")
    long calibrationSeed;

    @Mixin
    QuantizeOptions quantize;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output model (default: MODEL.int8.onnx, "
            + "or MODEL.int8-weights.onnx).")
    Path output;

    @Setting(stage = Setting.Stage.WRITE, recorded = false)
    @Option(names = "--report", paramLabel = "FILE.json",
            description = "JSON report (default: the output's name with .report.json; .md and .html beside it).")
    Path report;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--eval-data", paramLabel = "SPEC",
            description = "Validate the quantized model against the float one on these data (as acdc validate).")
    String evalData;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--max-drop", paramLabel = "PTS", description = "With --eval-data: exit 1 when top-1 is more than "
            + "PTS points below the float model's (the model and reports are still written).")
    Double maxDrop;

    @Mixin
    DataOptions dataOptions;

    @Setting(stage = Setting.Stage.INPUT)
    @Option(names = "--input-shape", paramLabel = "N,C,H,W",
            description = "Input shape for MAC counts and the probe, as compress takes it (default: declared; a symbolic "
                    + "batch = 1, an open H or W = 224).")
    String inputShape;

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
        CompressionJob.Calibration.checkImages(calibrationImages);
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

        QuantizeJob.Outcome o;
        Preprocessing pre = evalData != null || calibrationData != null ? dataOptions.preprocessing() : null;
        try (Dataset calib = calibrationData != null ? dataOptions.open(calibrationData) : null;
             Dataset all = evalData != null ? dataOptions.open(evalData) : null) {
            Dataset eval = all == null ? null : dataOptions.sample(all, "evaluation", null);
            o = QuantizeJob.run(new QuantizeJob.Request(model, req,
                    calib == null ? null : new CompressionJob.Calibration(calib, pre, calibrationImages, calibrationSeed),
                    eval == null ? null : new CompressionJob.Evaluation(eval, pre, ValidationText.options(dataOptions)),
                    outs, Reports.provenance(spec, pre), Options.parseShape(inputShape)), new CliListener(err));
        }
        ValidationResult validation = o.validation();
        byte[] bytes = o.bytes();
        String verdict = o.verdict();
        String warning = o.warning();
        out.print(QuantizationText.summary(o.quantized(), o.originalBytes(), bytes.length));
        if (validation != null) {
            out.println();
            out.print(ValidationText.render(validation, model.getFileName().toString(),
                    outs.model().getFileName().toString()));
        }
        out.println(Colors.verdict(verdict, warning != null));
        if (warning != null) {
            out.println(Colors.warning(warning));
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
}
