package dev.acdc.cli;

import dev.acdc.data.Preprocessing;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.Consistency;
import dev.acdc.report.FineTuneSection;
import dev.acdc.report.TrainingReport;
import dev.acdc.report.ValidationSection;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.workflow.FineTuneJob;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.runtime.workflow.Verdict;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
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

    @Setting(stage = Setting.Stage.INPUT, level = Setting.Level.BASIC)
    @Option(names = "--teacher", required = true, paramLabel = "ORIGINAL.onnx", description = "The model to distil from.")
    Path teacher;

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.BASIC)
    @Option(names = "--train-data", required = true, paramLabel = "SPEC", description = "Training data (same SPEC forms as validate).")
    String trainData;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--eval-data", paramLabel = "SPEC", description = "Evaluated after every epoch and reported; never used to choose the epoch kept (that is --select-split).")
    String evalData;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output (default: MODEL.finetuned.onnx).")
    Path output;

    @Setting(stage = Setting.Stage.WRITE, recorded = false)
    @Option(names = "--report", paramLabel = "FILE.json", description = "JSON report (default: OUT.report.json).")
    Path report;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        var opts = train.options(trainData);
        Preprocessing pre = dataOptions.preprocessing();
        OutputGuard guard = new OutputGuard().reads(model, teacher).readsData(trainData).readsData(evalData);
        var outs = OutputFiles.Outputs.of(guard,
                output != null ? output : OutputFiles.siblingWithSuffix(model, ".finetuned.onnx"), report);
        guard.checkpointFolder(train.checkpoint, dev.acdc.train.Checkpoint.FILES);
        Path out1 = outs.model();
        Path rep = outs.report();
        byte[] teacherBytes = OutputFiles.readAll(teacher);
        Model student = OnnxModels.load(model);
        dev.acdc.quantize.Quantizer.requireFloat(student, "fine-tune");
        FineTuneJob.prepare(student);
        FineTuneSection ft = FineTuning.run(student, teacherBytes, trainData, evalData, pre, train, dataOptions, err,
                out1).report();
        byte[] bytes = OnnxModels.toBytes(student);
        Consistency consistency = FineTuneJob.consistency(student, bytes, new CliListener(err));
        ValidationResult v = null;
        if (evalData != null) {
            try (var all = dataOptions.open(evalData)) {
                var ds = dataOptions.sample(all, "evaluation", null);
                v = ValidationText.run(teacherBytes, bytes, ds, pre, dataOptions, err);
                out.print(ValidationText.render(v, teacher.getFileName().toString(), out1.getFileName().toString()));
            }
        }
        String verdict = Verdict.ofTraining(ft, v, true);
        OutputFiles.saveVerified(student, bytes, out1, model, new CliListener(err), outs,
                TrainingReport.finetune(Reports.provenance(spec, pre), model.toString(), out1.toString(),
                        teacher.toString(), ft, consistency, v == null ? null : ValidationSection.of(v), verdict));
        out.printf("fine-tuned %d steps in %.0f s (%.0f img/s, %s); wrote %s; reports %s, %s, %s%n", ft.steps(),
                ft.seconds(), ft.imagesPerSecond(), ft.backend(), out1, rep, outs.markdown().getFileName(),
                outs.html().getFileName());
        out.println(Colors.verdict(verdict, false));
        out.flush();
        return 0;
    }

}
