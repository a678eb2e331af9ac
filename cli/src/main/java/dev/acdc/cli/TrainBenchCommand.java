package dev.acdc.cli;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.OrtTeacher;
import dev.acdc.train.Nd4jSetup;
import dev.acdc.train.Schedule;
import dev.acdc.train.Trainer;
import dev.acdc.train.TrainOptions;
import dev.acdc.util.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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

    @Option(names = "--teacher", paramLabel = "ORIGINAL.onnx", description = "Teacher run by ONNX Runtime in each "
            + "step, as in a real fine-tune (default: none, labels only).")
    Path teacher;

    @Option(names = "--batch", defaultValue = "128", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "15", description = "Timed steps per run (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--repeats", defaultValue = "3", description = "Runs per configuration (default ${DEFAULT-VALUE}).")
    int repeats;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Nd4jSetup.init();
        byte[] bytes = ModelFiles.readAll(model);
        Model probe = OnnxModels.fromBytes(bytes, null);
        long[] shape = probe.graph().dataInputs().get(0).shape();
        int c = (int) shape[1];
        int h = (int) shape[2];
        int w = (int) shape[3];
        long[] os = dev.acdc.ir.ShapeInference.infer(probe).get(probe.graph().outputs().get(0).name()).shape();
        int classes = (int) os[os.length - 1];
        SyntheticDataset data = new SyntheticDataset(batch * (warmup + steps), c, h, w, classes, 1);
        boolean[] modes = {false, true};
        List<List<Double>> ips = List.of(new ArrayList<>(), new ArrayList<>());
        try (OrtTeacher t = teacher == null ? null
                : new OrtTeacher(ModelFiles.readAll(teacher), dev.acdc.runtime.Sessions.Config.cpu(), s -> { })) {
            dev.acdc.train.Teacher tc = t != null ? t : (x, n, s) -> new float[n * classes];
            for (int r = 0; r < repeats; r++) {
                for (int k = 0; k < modes.length; k++) {
                    double v = run(OnnxModels.fromBytes(bytes, null), tc, data, modes[k], t != null);
                    ips.get(k).add(v);
                    err.printf("acdc: run %d, batch-norm %s: %.1f images/s%n", r + 1, modes[k] ? "train" : "folded", v);
                    err.flush();
                }
            }
        }
        double folded = median(ips.get(0));
        double train = median(ips.get(1));
        Table tb = new Table("batch-norm", "median img/s", "runs").leftAligned(1);
        tb.row("folded", String.format("%.1f", folded), runs(ips.get(0)));
        tb.row("train", String.format("%.1f", train), runs(ips.get(1)));
        out.print(tb);
        out.printf("%ntrain / folded: %.2f; batch %d, %d timed steps after %d warm-up steps, %s; teacher: %s%n",
                train / folded, batch, steps, warmup, Nd4jSetup.describe(), teacher == null ? "none" : teacher);
        out.flush();
        return 0;
    }

    private double run(Model m, dev.acdc.train.Teacher t, SyntheticDataset data, boolean bn, boolean distil) {
        TrainOptions o = TrainOptions.builder().epochs(1).maxSteps(warmup + steps).batch(batch).lr(0.01)
                .schedule(Schedule.Kind.CONSTANT).kdWeight(distil ? 0.9 : 0).ceWeight(distil ? 0.1 : 1).augment(false)
                .batchNorm(bn ? TrainOptions.BatchNormMode.TRAIN : TrainOptions.BatchNormMode.FOLDED).build();
        long[] times = new long[warmup + steps + 1];
        Trainer.train(m, t, data, Preprocessing.defaults(), o, null, new Trainer.Listener() {
            @Override
            public void step(int step, int total, int epoch, double loss, double norm, double imagesPerSecond) {
                times[step] = System.nanoTime();
            }

            @Override
            public void epoch(Trainer.EpochRecord rec) {
            }
        });
        return (double) steps * batch / ((times[warmup + steps] - times[warmup]) / 1e9);
    }

    private static String runs(List<Double> v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.length() == 0 ? "" : ", ").append(String.format("%.1f", d));
        }
        return b.toString();
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
