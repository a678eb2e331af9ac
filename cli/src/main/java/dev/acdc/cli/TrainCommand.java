package dev.acdc.cli;

import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.Consistency;
import dev.acdc.report.FineTuneSection;
import dev.acdc.report.TrainingReport;
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

/** {@code acdc train}: train an ONNX-described network from its initial weights on labelled data. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train every weight of an ONNX-described network from the weights it holds, with cross-entropy "
                + "on labelled data (no teacher), using ND4J. With --batch-norm train, BatchNormalization is put after "
                + "every convolution while training and folded away for export. This is how "
                + "testdata/fmnist-resnet14.onnx is made (see testdata/README.md).")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    TrainCliOptions train;

    @Parameters(paramLabel = "MODEL.onnx", description = "The network with its initial weights.")
    Path model;

    @Setting(stage = Setting.Stage.FINETUNE, level = Setting.Level.BASIC)
    @Option(names = "--train-data", required = true, paramLabel = "SPEC", description = "Labelled training data.")
    String trainData;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--eval-data", paramLabel = "SPEC", description = "Evaluated after every epoch and reported; never used to choose the epoch kept (that is --select-split).")
    String evalData;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output (default: MODEL.trained.onnx).")
    Path output;

    @Setting(stage = Setting.Stage.WRITE, recorded = false)
    @Option(names = "--report", paramLabel = "FILE.json", description = "JSON report (default: OUT.report.json).")
    Path report;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        OutputGuard guard = new OutputGuard().reads(model).readsData(trainData).readsData(evalData);
        var outs = OutputFiles.Outputs.of(guard,
                output != null ? output : OutputFiles.siblingWithSuffix(model, ".trained.onnx"), report);
        guard.checkpointFolder(train.checkpoint, dev.acdc.train.Checkpoint.FILES);
        Path out1 = outs.model();
        Path rep = outs.report();
        train.options(trainData); // bad training options fail before any work
        Model m = OnnxModels.load(model);
        FineTuneJob.prepare(m);
        FineTuneSection t = FineTuning.run(m, null, trainData, evalData, dataOptions.preprocessing(), train,
                dataOptions, err, out1).report();
        byte[] bytes = OnnxModels.toBytes(m);
        Consistency consistency = FineTuneJob.consistency(m, bytes, new CliListener(err));
        String verdict = Verdict.ofTraining(t, null, false);
        OutputFiles.saveVerified(m, bytes, out1, model, new CliListener(err), outs,
                TrainingReport.train(Reports.provenance(spec, dataOptions.preprocessing()), model.toString(),
                        out1.toString(), t, consistency, verdict));
        out.printf("trained %d steps in %.0f s (%.0f img/s, %s); best epoch %s of %d; wrote %s; reports %s, %s, %s%n",
                t.steps(), t.seconds(), t.imagesPerSecond(), t.backend(), t.bestEpoch(), t.epochs().size(), out1, rep,
                outs.markdown().getFileName(), outs.html().getFileName());
        out.println(Colors.verdict(verdict, false));
        out.flush();
        return 0;
    }
}
