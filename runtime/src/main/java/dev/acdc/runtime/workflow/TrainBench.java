package dev.acdc.runtime.workflow;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.OrtTeacher;
import dev.acdc.runtime.Sessions;
import dev.acdc.train.EpochRecord;
import dev.acdc.train.Nd4jSetup;
import dev.acdc.train.Schedule;
import dev.acdc.train.Teacher;
import dev.acdc.train.TrainOptions;
import dev.acdc.train.Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fine-tuning throughput (images/s of whole steps: teacher, forward, backward, update) on synthetic data
 * of the model's input shape, with BatchNormalization folded and in training mode; the two are run
 * interleaved, {@code repeats} times each, in this process, so their ratio is fair on a shared machine.
 */
public final class TrainBench {
    private TrainBench() {
    }

    /** Images/s of every run, per configuration, and their medians. */
    public record Result(List<Double> folded, List<Double> train, String backend) {
        public double foldedMedian() {
            return median(folded);
        }

        public double trainMedian() {
            return median(train);
        }
    }

    /** Measures {@code model} (teacher null: labels only) with batches of {@code batch}. */
    public static Result run(byte[] model, byte[] teacher, int batch, int steps, int warmup, int repeats,
                             JobListener listener) {
        if (batch < 1 || steps < 1 || warmup < 0 || repeats < 1) {
            throw new dev.acdc.AcdcException("--batch, --steps and --repeats must be at least 1 and --warmup-steps at "
                    + "least 0, got " + batch + ", " + steps + ", " + repeats + " and " + warmup);
        }
        dev.acdc.train.TrainingEngine.require("timing training steps");
        Nd4jSetup.init();
        SyntheticDataset data = syntheticData(OnnxModels.fromBytes(model, null), batch * (warmup + steps));
        int classes = data.classes();
        boolean[] modes = {false, true};
        List<List<Double>> ips = List.of(new ArrayList<>(), new ArrayList<>());
        try (OrtTeacher t = teacher == null ? null : new OrtTeacher(teacher, Sessions.Config.cpu(), s -> { })) {
            Teacher tc = t != null ? t : (x, n, s) -> new float[n * classes];
            for (int r = 0; r < repeats; r++) {
                for (int k = 0; k < modes.length; k++) {
                    double v = once(OnnxModels.fromBytes(model, null), tc, data, modes[k], t != null, batch, steps,
                            warmup);
                    ips.get(k).add(v);
                    listener.note(String.format("run %d, batch-norm %s: %.1f images/s", r + 1,
                            modes[k] ? "train" : "folded", v));
                }
            }
        }
        return new Result(ips.get(0), ips.get(1), Nd4jSetup.describe());
    }

    /**
     * Images/s of {@code steps} whole fine-tuning steps of {@code model} (after {@code warmup} untimed ones), as a
     * run with {@code trainingBn} trains it, with {@code teacher} run by ONNX Runtime: what a fine-tune's time is
     * estimated from ({@link DryRun}).
     */
    public static double imagesPerSecond(byte[] model, byte[] teacher, int batch, int steps, int warmup,
                                         boolean trainingBn) {
        dev.acdc.train.TrainingEngine.require("timing training steps");
        Nd4jSetup.init();
        Model probe = OnnxModels.fromBytes(model, null);
        SyntheticDataset data = syntheticData(probe, batch * (warmup + steps));
        try (OrtTeacher t = new OrtTeacher(teacher, Sessions.Config.cpu(), s -> { })) {
            return once(probe, t, data, trainingBn, true, batch, steps, warmup);
        }
    }

    /** {@code n} synthetic images of {@code probe}'s input shape, labelled over its classes. */
    private static SyntheticDataset syntheticData(Model probe, int n) {
        long[] shape = probe.graph().dataInputs().get(0).shape();
        long[] os = FineTuneJob.requireLogits(probe);
        return new SyntheticDataset(n, (int) shape[1], (int) shape[2], (int) shape[3], (int) os[os.length - 1], 1);
    }

    private static double once(Model m, Teacher t, SyntheticDataset data, boolean bn, boolean distil, int batch,
                               int steps, int warmup) {
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
            public void epoch(EpochRecord rec) {
            }
        });
        return (double) steps * batch / ((times[warmup + steps] - times[warmup]) / 1e9);
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
