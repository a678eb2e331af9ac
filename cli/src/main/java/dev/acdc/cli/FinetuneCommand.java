package dev.acdc.cli;

import dev.acdc.data.Preprocessing;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.train.SameDiffGraph;
import dev.acdc.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc finetune}: distil a compressed model from its original with ND4J. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune a compressed model by distillation from the original (teacher run by ONNX Runtime in "
                + "the same process; cross-entropy added where labels exist) with ND4J on the CPU (oneDNN) or, in a "
                + "-Pcuda build, the GPU. Writes the trained atoms and coefficients back into the compact ONNX.")
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    TrainCliOptions train;

    @Parameters(paramLabel = "COMPRESSED.onnx", description = "The model to fine-tune (e.g. acdc-compress output).")
    Path model;

    @Option(names = "--teacher", required = true, paramLabel = "ORIGINAL.onnx", description = "The model to distil from.")
    Path teacher;

    @Option(names = "--train-data", required = true, paramLabel = "SPEC", description = "Training data (same SPEC forms as validate).")
    String trainData;

    @Option(names = "--eval-data", paramLabel = "SPEC", description = "Evaluated after every epoch and reported; never used to choose the epoch kept (that is --select-split).")
    String evalData;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output (default: MODEL.finetuned.onnx).")
    Path output;

    @Option(names = "--report", paramLabel = "FILE.json", description = "JSON report (default: OUT.report.json).")
    Path report;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        var opts = train.options(trainData);
        Preprocessing pre = dataOptions.preprocessing();
        OutputGuard guard = new OutputGuard().reads(model, teacher).readsData(trainData).readsData(evalData);
        var outs = CompressCommand.Outputs.of(guard,
                output != null ? output : CompressCommand.siblingWithSuffix(model, ".finetuned.onnx"), report);
        guard.checkpointFolder(train.checkpoint, dev.acdc.train.Checkpoint.FILES);
        Path out1 = outs.model();
        Path rep = outs.report();
        byte[] teacherBytes = CompressCommand.readAll(teacher);
        Model student = OnnxModels.load(model);
        dev.acdc.quantize.Quantizer.requireFloat(student, "fine-tune");
        PassManager.standard().run(student);
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("input", model.toString());
        j.put("output", out1.toString());
        j.put("teacher", teacher.toString());
        Map<String, Object> ft = FineTuning.run(student, teacherBytes, trainData, evalData, pre, train, dataOptions, err,
                out1);
        j.put("finetune", ft);
        byte[] bytes = checkedBytes(student, j, err);
        if (evalData != null) {
            try (var all = dataOptions.open(evalData)) {
                var ds = dataOptions.sample(all, "evaluation", null);
                ValidationResult v = ValidateCommand.run(teacherBytes, bytes, ds, pre, dataOptions, err);
                j.put("validation", v.json());
                out.print(ValidateCommand.render(v, teacher.getFileName().toString(), out1.getFileName().toString()));
            }
        }
        CompressCommand.saveVerified(student, bytes, out1, model, err, outs, j);
        out.printf("fine-tuned %d steps in %.0f s (%.0f img/s, %s); wrote %s; reports %s, %s, %s%n", ft.get("steps"),
                (double) ft.get("seconds"), (double) ft.get("imagesPerSecond"), ft.get("backend"), out1, rep, outs.markdown().getFileName(), outs.html().getFileName());
        out.flush();
        return 0;
    }

    /** The trained model's bytes, after {@link #consistency} (recorded in {@code report} as "consistency"). */
    static byte[] checkedBytes(Model m, Map<String, Object> report, PrintWriter err) {
        byte[] bytes = OnnxModels.toBytes(m);
        report.put("consistency", consistency(m, bytes, err));
        return bytes;
    }

    /** ORT on the written model against SameDiff on the same weights: max |logit diff| on a probe batch. */
    static Map<String, Object> consistency(Model m, byte[] bytes, PrintWriter err) {
        long[] shape = ModelSummary.of(m, null, bytes.length).inputShape().clone();
        shape[0] = Math.max(shape[0], 1);
        float[] x = Probe.randomInput(shape, 77);
        float[] ort;
        try (var s = dev.acdc.runtime.Sessions.open(bytes, dev.acdc.runtime.Sessions.Config.cpu(), q -> { })) {
            ort = Probe.run(s.session(), x, shape);
        }
        SameDiffGraph g = SameDiffGraph.build(m, n -> false);
        float[] sd = g.output(org.nd4j.linalg.factory.Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        double max = 0;
        for (int i = 0; i < ort.length; i++) {
            max = Math.max(max, Math.abs(ort[i] - sd[i]));
        }
        err.printf("acdc: ONNX Runtime vs SameDiff on the written weights (probe %s): max |logit diff| %.2g%n",
                Arrays.toString(shape), max);
        if (max > 1e-3) {
            throw new dev.acdc.AcdcException(dev.acdc.AcdcException.INTERNAL, "the written model disagrees with the "
                    + "trained graph (max |logit diff| " + max + " > 1e-3); nothing written", null);
        }
        return Map.of("probeShape", shape, "maxAbsLogitDiff", max);
    }
}
