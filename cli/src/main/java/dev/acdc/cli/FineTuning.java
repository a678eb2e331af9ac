package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.OrtTeacher;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.Validator;
import dev.acdc.train.Nd4jSetup;
import dev.acdc.train.SameDiffGraph;
import dev.acdc.train.StopSignal;
import dev.acdc.train.Trainer;
import dev.acdc.train.TrainOptions;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a fine-tune for the CLI: ORT teacher, progress, per-epoch evaluation; returns the report section. */
final class FineTuning {
    private FineTuning() {
    }

    /** Teacher and student must take the same input and give the same number of outputs. */
    static void checkCompatible(Model student, ModelIO teacher) {
        long[] s = student.graph().dataInputs().get(0).shape();
        long[] t = teacher.inputShape();
        boolean same = s != null && s.length == t.length;
        for (int i = 1; same && i < s.length; i++) {
            same = s[i] < 0 || t[i] < 0 || s[i] == t[i];
        }
        if (!same) {
            throw new AcdcException("teacher input " + java.util.Arrays.toString(t) + " and student input "
                    + java.util.Arrays.toString(s) + " differ");
        }
        long[] so = dev.acdc.ir.ShapeInference.infer(student).get(student.graph().outputs().get(0).name()).shape();
        long[] to = teacher.outputShape();
        if (to.length > 0 && so[so.length - 1] > 0 && to[to.length - 1] > 0 && so[so.length - 1] != to[to.length - 1]) {
            throw new AcdcException("teacher gives " + to[to.length - 1] + " outputs per image, the student "
                    + so[so.length - 1]);
        }
    }

    /**
     * Fine-tunes {@code student}. Ctrl-C (SIGINT) stops it at the end of the current step with a checkpoint
     * in --checkpoint DIR, or else beside {@code out} ({@code OUT.checkpoint/}), and the command exits with 130.
     */
    static Map<String, Object> run(Model student, byte[] teacherBytes, String trainSpec, String evalSpec,
                                   Preprocessing pre, TrainCliOptions cli, DataOptions d, PrintWriter err,
                                   java.nio.file.Path out) {
        TrainOptions o = teacherBytes == null ? cli.options().labelsOnly() : cli.options();
        if (cli.resume && cli.checkpoint == null) {
            throw new AcdcException("--resume needs --checkpoint DIR");
        }
        Nd4jSetup.init();
        Sessions.Config cfg = d.sessions();
        try (Dataset trainAll = d.open(trainSpec);
             Dataset evalAll = evalSpec == null ? null : d.open(evalSpec);
             OrtTeacher ortTeacher = teacherBytes == null ? null
                     : new OrtTeacher(teacherBytes, cfg, msg -> err.println("acdc: " + msg))) {
            if (trainAll.size() == 0) {
                throw new AcdcException("the training data set is empty");
            }
            Dataset pool = d.sample(cli.trainingCrops(trainAll, d.geometry()), "training", null);
            Split split = split(pool, cli.selectSplit, d.sampleSeed);
            Dataset train = split.train();
            Dataset select = split.select();
            err.println("acdc: training data: " + train.describe());
            if (select != null) {
                err.println("acdc: selection split: " + select.describe() + "; the epoch kept is the best on it");
            } else {
                err.println("acdc: no selection split" + (cli.selectSplit > 0 && !pool.hasLabels()
                        ? " (the training data have no labels)" : "") + ": the last epoch is kept");
            }
            Dataset eval = evalAll == null ? null : d.sample(evalAll, "evaluation", null);
            if (eval != null) {
                err.println("acdc: evaluation data (reported after each epoch, never used to choose): "
                        + eval.describe());
            }
            dev.acdc.train.Teacher teacher;
            if (ortTeacher != null) {
                checkCompatible(student, ortTeacher.io());
                teacher = ortTeacher;
            } else {
                if (!train.hasLabels()) {
                    throw new AcdcException("training without a teacher needs labels, and " + train.describe()
                            + " has none");
                }
                long[] so = dev.acdc.ir.ShapeInference.infer(student).get(student.graph().outputs().get(0).name()).shape();
                int classes = (int) so[so.length - 1];
                teacher = (x, n, shape) -> new float[n * classes]; // unused: the distillation weight is 0
            }
            err.println("acdc: " + (ortTeacher == null ? "training (cross-entropy on labels)" : "fine-tuning") + " on "
                    + train.describe() + "; " + o.epochs() + " epochs, batch " + o.batch()
                    + ", " + TrainOptions.spell(o.optimizer()) + " lr " + o.lr() + " (" + TrainOptions.spell(o.schedule())
                    + ", warm-up " + o.warmup() + "), clip " + (o.clip() > 0 ? o.clip() : "off") + ", batch-norm "
                    + TrainOptions.spell(o.batchNorm()) + ", T " + o.temperature() + ", training "
                    + TrainOptions.spell(o.train()) + " weights");
            boolean[] started = {false};
            long[] lastLine = {0};
            Trainer.Evaluators evaluator = new Trainer.Evaluators(top1On(select, pre, cfg, d.batchSize),
                    top1On(eval, pre, cfg, d.batchSize));
            List<Map<String, Object>> curve = new ArrayList<>();
            StopSignal stop = new StopSignal(cli.checkpoint != null ? cli.checkpoint
                    : ModelFiles.siblingWithSuffix(out, ".checkpoint"));
            Trainer.Result r;
            Interrupts.Handler onCtrlC = Interrupts.onSigint(() -> {
                stop.request();
                err.println();
                err.println("acdc: Ctrl-C: stopping after this step and writing a checkpoint (Ctrl-C again quits "
                        + "without one)");
                err.flush();
            });
            try {
                r = train(student, teacher, train, pre, o, evaluator, cli, err, curve, started, lastLine, stop);
            } finally {
                onCtrlC.close();
            }
            return report(r, train, select, eval, o, curve);
        }
    }

    /** The training data and the held-out selection split (null when the fraction is 0 or there are no labels). */
    record Split(Dataset train, Dataset select) {
    }

    /**
     * Holds out {@code fraction} of {@code data} (at least one image per class present, seeded, stratified
     * by class) for choosing the epoch; the rest trains.
     */
    static Split split(Dataset data, double fraction, long seed) {
        int n = data.size();
        int k = (int) Math.round(fraction * n);
        if (fraction <= 0 || k < 1 || !data.hasLabels() || k >= n) {
            return new Split(data, null);
        }
        dev.acdc.data.Sampling.Subset held = dev.acdc.data.Sampling.sample(data, k, seed * 31 + 7);
        int[] rest = dev.acdc.data.SubsetDataset.complement(n, held);
        String pct = String.format(java.util.Locale.ROOT, "%.3g %%", 100.0 * k / n);
        return new Split(new dev.acdc.data.SubsetDataset(data, rest, rest.length + " images: " + data.describe()
                + ", less the selection split"),
                new dev.acdc.data.SubsetDataset(data, held.indices(), held.describe() + ", " + pct + " of "
                        + data.describe() + ", seed " + seed));
    }

    private static Trainer.Evaluator top1On(Dataset data, Preprocessing pre, Sessions.Config cfg, int batch) {
        if (data == null || !data.hasLabels()) {
            return null;
        }
        return m -> {
            try (ModelIO io = new ModelIO(OnnxModels.toBytes(m), cfg, s -> { })) {
                return Validator.top1(io, data, pre, batch);
            }
        };
    }

    private static Trainer.Result train(Model student, dev.acdc.train.Teacher teacher, Dataset train, Preprocessing pre,
                                        TrainOptions o, Trainer.Evaluators evaluator, TrainCliOptions cli,
                                        PrintWriter err, List<Map<String, Object>> curve, boolean[] started,
                                        long[] lastLine, StopSignal stop) {
        return Trainer.train(student, teacher, train, pre, o, evaluator, new Trainer.Listener() {
            @Override
            public void note(String line) {
                err.println("acdc: " + line);
            }

            @Override
            public void step(int step, int total, int epoch, double loss, double gradNorm, double ips) {
                if (!started[0]) {
                    err.println("acdc: ND4J backend " + Nd4jSetup.describe());
                    started[0] = true;
                }
                long now = System.nanoTime();
                if (now - lastLine[0] > 2_000_000_000L || step == total) {
                    lastLine[0] = now;
                    double eta = (total - step) * (o.batch() / Math.max(ips, 1e-9));
                    err.printf("acdc: epoch %d step %d/%d loss %.4f |grad| %.3g %.0f img/s ETA %s%n", epoch, step,
                            total, loss, gradNorm, ips, ProgressBar.duration(eta));
                    err.flush();
                }
            }

            @Override
            public void epoch(Trainer.EpochRecord rec) {
                curve.add(rec.json());
                err.printf("acdc: epoch %d: loss %.4f%s%s (%.0f s)%s%n", rec.epoch(), rec.loss(),
                        Double.isNaN(rec.selectTop1()) ? "" : String.format(", selection top-1 %.2f %%",
                                100 * rec.selectTop1()),
                        Double.isNaN(rec.evalTop1()) ? "" : String.format(", eval top-1 %.2f %%", 100 * rec.evalTop1()),
                        rec.seconds(), rec.best() ? " (kept so far)" : "");
                err.flush();
            }
        }, cli.checkpoint, cli.resume, stop);
    }

    private static Map<String, Object> report(Trainer.Result r, Dataset train, Dataset select, Dataset eval,
                                              TrainOptions o, List<Map<String, Object>> curve) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("backend", r.backend());
        j.put("trainData", train.describe());
        j.put("trainImages", train.size());
        j.put("selectionData", select == null ? null : select.describe());
        j.put("selectionImages", select == null ? 0 : select.size());
        j.put("evalImages", eval == null ? 0 : eval.size());
        j.put("keptEpochChosenBy", select == null ? "last epoch" : "selection split");
        j.put("evalData", eval == null ? null : eval.describe());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("epochs", o.epochs());
        s.put("maxSteps", o.maxSteps());
        s.put("batch", o.batch());
        s.put("lr", o.lr());
        s.put("optimizer", TrainOptions.spell(o.optimizer()));
        s.put("momentum", o.momentum());
        s.put("weightDecay", o.weightDecay());
        s.put("schedule", TrainOptions.spell(o.schedule()));
        s.put("warmup", o.warmup());
        s.put("temperature", o.temperature());
        s.put("kdWeight", o.kdWeight());
        s.put("ceWeight", o.ceWeight());
        s.put("augment", o.augment());
        s.put("train", TrainOptions.spell(o.train()));
        s.put("seed", o.seed());
        s.put("clip", o.clip());
        s.put("batchNorm", TrainOptions.spell(o.batchNorm()));
        s.put("batchNormStart", TrainOptions.spell(o.batchNormStart()));
        s.put("augmentMode", TrainOptions.spell(o.augmentMode()));
        j.put("settings", s);
        j.put("epochs", curve);
        j.put("bestEpoch", r.bestEpoch());
        j.put("steps", r.steps());
        j.put("seconds", r.seconds());
        j.put("imagesPerSecond", r.imagesPerSecond());
        return j;
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
        float[] sd = g.output(x, shape);
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
