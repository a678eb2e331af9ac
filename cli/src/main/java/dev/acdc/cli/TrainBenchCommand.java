package dev.acdc.cli;

import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.TrainBench;
import dev.acdc.util.Table;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code acdc bench-train}: fine-tuning throughput, with and without training-mode BatchNormalization. */
@Command(name = "bench-train", mixinStandardHelpOptions = true,
        description = "Measure fine-tuning speed (images/s of whole steps: teacher, forward, backward, update) on "
                + "synthetic data of the model's input shape. Each configuration runs --repeats times in this "
                + "process, interleaved; the median is reported, and the ratio of --batch-norm train to folded.")
final class TrainBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "COMPRESSED.onnx", description = "The model to train (e.g. acdc-compress output).")
    Path model;

    @Setting(stage = Setting.Stage.INPUT)
    @Option(names = "--teacher", paramLabel = "ORIGINAL.onnx", description = "Teacher run by ONNX Runtime in each "
            + "step, as in a real fine-tune (default: none, labels only).")
    Path teacher;

    @Setting(stage = Setting.Stage.FINETUNE)
    @Option(names = "--batch", defaultValue = "128", description = "Training batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "15", description = "Timed steps per run (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "3",
            description = "Untimed steps first (default ${DEFAULT-VALUE}).")
    int warmup;

    /** The option's name before --warmup meant the fine-tune's warm-up fraction in every command; accepted, not shown. */
    @Option(names = "--warmup", hidden = true)
    Integer oldWarmup;

    @Option(names = "--repeats", defaultValue = "3", description = "Runs per configuration (default ${DEFAULT-VALUE}).")
    int repeats;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (oldWarmup != null) {
            if (spec.commandLine().getParseResult().hasMatchedOption("--warmup-steps")) {
                throw new dev.acdc.AcdcException("--warmup and --warmup-steps both set the untimed steps: give --warmup-steps");
            }
            warmup = oldWarmup;
        }
        byte[] bytes = OutputFiles.readAll(model);
        TrainBench.Result r = TrainBench.run(bytes, teacher == null ? null : OutputFiles.readAll(teacher), batch, steps,
                warmup, repeats, new CliListener(err));
        double folded = r.foldedMedian();
        double train = r.trainMedian();
        Table tb = new Table("batch-norm", "median img/s", "runs").leftAligned(1);
        tb.row("folded", String.format("%.1f", folded), runs(r.folded()));
        tb.row("train", String.format("%.1f", train), runs(r.train()));
        out.print(tb);
        out.printf("%ntrain / folded: %.2f; batch %d, %d timed steps after %d warm-up steps, %s; teacher: %s%n",
                train / folded, batch, steps, warmup, r.backend(), teacher == null ? "none" : teacher);
        out.flush();
        return 0;
    }

    private static String runs(List<Double> v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.length() == 0 ? "" : ", ").append(String.format("%.1f", d));
        }
        return b.toString();
    }
}
