package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.data.Sampling;
import dev.acdc.data.SubsetDataset;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.ir.ShapeInference;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.report.Consistency;
import dev.acdc.report.FineTuneSection;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.OrtTeacher;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.Validator;
import dev.acdc.train.EpochRecord;
import dev.acdc.train.Nd4jSetup;
import dev.acdc.train.SameDiffGraph;
import dev.acdc.train.StopSignal;
import dev.acdc.train.Teacher;
import dev.acdc.train.TrainOptions;
import dev.acdc.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Fine-tunes a model in place: by distillation from a teacher run by ONNX Runtime (cross-entropy added
 * where the data have labels) or, without a teacher, on the labels alone. Holds out a seeded,
 * class-stratified selection split of the training data to choose the epoch kept, reports top-1 on the
 * evaluation data after every epoch (never used to choose), and returns the report section.
 */
public final class FineTuneJob {
    private FineTuneJob() {
    }

    /**
     * How to train. {@code train}: the training images (already sampled and cropped as the caller
     * wants); {@code eval} (may be null): reported after each epoch; {@code selectSplit}: the fraction of
     * {@code train} held out to choose the epoch (0: the last epoch is kept), drawn with {@code splitSeed};
     * {@code evalBatch}: images per ONNX Runtime call when scoring; {@code checkpoint} (may be null): a
     * folder that gets a checkpoint after every epoch, resumed from with {@code resume}; {@code stop}
     * (may be null): when requested, the run ends after its step with a checkpoint in the signal's folder.
     */
    public record Settings(Dataset train, Dataset eval, Preprocessing pre, TrainOptions options, double selectSplit,
                           long splitSeed, Sessions.Config sessions, int evalBatch, Path checkpoint, boolean resume,
                           StopSignal stop) {
        public Settings {
            if (train == null || pre == null || options == null || sessions == null) {
                throw new IllegalArgumentException("train, pre, options and sessions are required");
            }
            if (resume && checkpoint == null) {
                throw new AcdcException("--resume needs --checkpoint DIR");
            }
        }

        /** The fraction of the training data held out to choose the epoch kept, by default. */
        public static final double SELECT_SPLIT = 0.05;

        /** Defaults for the rest: a 5 % selection split (seed 1), CPU sessions, batches of 100, no checkpoint. */
        public static Settings of(Dataset train, Dataset eval, Preprocessing pre, TrainOptions options) {
            return new Settings(train, eval, pre, options, SELECT_SPLIT, 1, Sessions.Config.cpu(), 100, null, false, null);
        }
    }

    /** The report section ("finetune" in the reports) and the trainer's result. */
    public record Outcome(FineTuneSection report, Trainer.Result result) {
        public int bestEpoch() {
            return result.bestEpoch();
        }

        public List<EpochRecord> epochs() {
            return result.epochs();
        }
    }

    /** The training data and the held-out selection split (null when the fraction is 0 or there are no labels). */
    public record Split(Dataset train, Dataset select) {
    }

    /**
     * Makes a model read from a file ready to train: the standard passes (BatchNormalization folded,
     * constants folded), as the compression job leaves its output.
     */
    public static void prepare(Model m) {
        requireTrainable(m, "fine-tuning");
        PassManager.standard().run(m);
    }

    /**
     * Refuses, before any work, a model fine-tuning cannot train: one with an operator acdc has no rule for
     * (all named at once), or whose declared output is not [N, classes] logits ({@code what}: the stage, for
     * the message).
     */
    static void requireTrainable(Model m, String what) {
        dev.acdc.ir.OpSchema.requireAllKnown(m, what);
        long[] declared = m.graph().outputs().get(0).shape();
        if (declared != null && declared.length != 2) {
            long[] shown = declared;
            try {
                shown = outputShape(m); // the exporter may leave every dimension symbolic: show the inferred ones
            } catch (AcdcException e) {
                // the declared shape says enough
            }
            throw notLogits(shown);
        }
    }

    /**
     * The record a distillation run of {@code s} will write into the model ({@link Trainer#record}), with the
     * epoch kept and the steps at their bounds (at least as many digits as the real ones): what a size plan
     * made before the run leaves room for.
     */
    public static String recordBound(Settings s) {
        Dataset train = split(s.train(), s.selectSplit(), s.splitSeed()).train();
        TrainOptions o = s.options();
        long steps = (long) o.epochs() * ((train.size() + o.batch() - 1) / Math.max(1, o.batch()));
        return Trainer.record(train.describe(), o, o.epochs(), steps);
    }

    /** Fine-tunes {@code student} in place by distillation from {@code teacherBytes} (null: labels only). */
    public static Outcome run(Model student, byte[] teacherBytes, Settings s, JobListener listener) {
        TrainOptions o = teacherBytes == null ? s.options().labelsOnly() : s.options();
        dev.acdc.train.TrainingEngine.require("fine-tuning");
        Nd4jSetup.init();
        if (s.train().size() == 0) {
            throw new AcdcException("the training data set is empty");
        }
        long[] input = student.graph().dataInputs().get(0).shape();
        if (input != null) {
            for (Dataset d : new Dataset[] {s.train(), s.eval()}) {
                if (d != null) {
                    Validator.checkImagesFit(input, d, s.pre());
                }
            }
        }
        try (OrtTeacher ortTeacher = teacherBytes == null ? null
                : new OrtTeacher(teacherBytes, s.sessions(), listener::note)) {
            Split split = split(s.train(), s.selectSplit(), s.splitSeed());
            Dataset train = split.train();
            Dataset select = split.select();
            Dataset eval = s.eval();
            listener.note("training data: " + train.describe());
            if (select != null) {
                listener.note("selection split: " + select.describe() + "; the epoch kept is the best on it");
            } else {
                listener.note("no selection split" + (s.selectSplit() > 0 && !s.train().hasLabels()
                        ? " (the training data have no labels)" : "") + ": the last epoch is kept");
            }
            if (eval != null) {
                listener.note("evaluation data (reported after each epoch, never used to choose): " + eval.describe());
            }
            Teacher teacher;
            if (ortTeacher != null) {
                checkCompatible(student, ortTeacher.io());
                teacher = ortTeacher;
            } else {
                if (!train.hasLabels()) {
                    throw new AcdcException("training without a teacher needs labels, and " + train.describe()
                            + " has none");
                }
                int classes = classes(student);
                teacher = (x, n, shape) -> new float[n * classes]; // unused: the distillation weight is 0
            }
            listener.note((ortTeacher == null ? "training (cross-entropy on labels)" : "fine-tuning") + " on "
                    + train.describe() + "; " + o.epochs() + " epochs, batch " + o.batch()
                    + ", " + TrainOptions.spell(o.optimizer()) + " lr " + o.lr() + " (" + TrainOptions.spell(o.schedule())
                    + ", warm-up " + o.warmup() + (o.cycleMomentum() ? ", momentum cycled 0.95-0.85" : "") + "), clip " + (o.clip() > 0 ? o.clip() : "off") + ", batch-norm "
                    + TrainOptions.spell(o.batchNorm()) + ", T " + o.temperature() + ", training "
                    + TrainOptions.spell(o.train()) + " weights");
            Trainer.Evaluators evaluator = new Trainer.Evaluators(top1On(select, s), top1On(eval, s));
            List<FineTuneSection.Epoch> curve = new ArrayList<>();
            boolean[] started = {false};
            Trainer.Result r;
            JobListener.Scope training = listener.training(s.stop());
            try {
                r = train(student, teacher, train, s, o, evaluator, listener, curve, started);
            } finally {
                training.close();
            }
            return new Outcome(report(r, train, select, eval, o, curve), r);
        }
    }

    private static Trainer.Result train(Model student, Teacher teacher, Dataset train, Settings s, TrainOptions o,
                                        Trainer.Evaluators evaluator, JobListener listener,
                                        List<FineTuneSection.Epoch> curve, boolean[] started) {
        return Trainer.train(student, teacher, train, s.pre(), o, evaluator, new Trainer.Listener() {
            private final StepTimer timer = new StepTimer();

            @Override
            public void note(String line) {
                listener.note(line);
            }

            @Override
            public void step(int step, int total, int epoch, double loss, double gradNorm, double ips) {
                if (!started[0]) {
                    listener.note("ND4J backend " + Nd4jSetup.describe());
                    started[0] = true;
                }
                String estimate = timer.step(step, total, System.nanoTime());
                if (estimate != null) {
                    listener.note(estimate);
                }
                listener.trainingStep(step, total, epoch, loss, gradNorm, ips);
            }

            @Override
            public void epoch(EpochRecord rec) {
                curve.add(FineTuneSection.Epoch.of(rec));
                listener.epoch(rec);
            }
        }, s.checkpoint(), s.resume(), s.stop());
    }

    /**
     * The fine-tune's time, estimated once from a few measured steps: the time per step over steps
     * {@link #FROM}+1 .. {@link #TO} (the first ones warm up), times the steps left. One line, at step {@code TO},
     * for a run of more than {@code 2·TO} steps; the progress line's ETA keeps it current.
     */
    static final class StepTimer {
        static final int FROM = 2;
        static final int TO = 5;
        private long from = -1;
        private boolean said;

        /** The estimate line when {@code step} (1-based, at time {@code nanos}) is the one to say it at, else null. */
        String step(int step, int total, long nanos) {
            if (step == FROM) {
                from = nanos;
            }
            if (said || step != TO || from < 0 || total <= 2 * TO) {
                return null;
            }
            said = true;
            double perStep = (nanos - from) / 1e9 / (TO - FROM);
            return String.format(java.util.Locale.ROOT, "fine-tune: about %s for %,d steps (%.2f s a step, measured on "
                    + "steps %d-%d; the progress line keeps the time left current, evaluation after each epoch not "
                    + "counted)", dev.acdc.runtime.workflow.DryRun.Plan.time(perStep * total), total, perStep,
                    FROM + 1, TO);
        }
    }

    /**
     * Holds out {@code fraction} of {@code data} (at least one image per class present, seeded, stratified
     * by class) for choosing the epoch; the rest trains.
     */
    public static Split split(Dataset data, double fraction, long seed) {
        int n = data.size();
        int k = (int) Math.round(fraction * n);
        if (fraction <= 0 || k < 1 || !data.hasLabels() || k >= n) {
            return new Split(data, null);
        }
        Sampling.Subset held = Sampling.sample(data, k, seed * 31 + 7);
        int[] rest = SubsetDataset.complement(n, held);
        String pct = String.format(Locale.ROOT, "%.3g %%", 100.0 * k / n);
        return new Split(new SubsetDataset(data, rest, rest.length + " images: " + data.describe()
                + ", less the selection split"),
                new SubsetDataset(data, held.indices(), held.describe() + ", " + pct + " of "
                        + data.describe() + ", seed " + seed));
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
            throw new AcdcException("teacher input " + Arrays.toString(t) + " and student input "
                    + Arrays.toString(s) + " differ");
        }
        long[] so = requireLogits(student);
        long[] to = teacher.outputShape();
        if (to.length > 0 && so[so.length - 1] > 0 && to[to.length - 1] > 0 && so[so.length - 1] != to[to.length - 1]) {
            throw new AcdcException("teacher gives " + to[to.length - 1] + " outputs per image, the student "
                    + so[so.length - 1]);
        }
    }

    /** The model's output shape, refused unless it is [N, classes] logits (what the loss distils and classifies). */
    static long[] requireLogits(Model m) {
        long[] so = outputShape(m);
        if (so.length != 2) {
            throw notLogits(so);
        }
        return so;
    }

    private static AcdcException notLogits(long[] shape) {
        return new AcdcException("fine-tuning distils and classifies [N, classes] logits; this model's output is "
                + Arrays.toString(shape).replace("-1", "N") + " (a dense prediction such as a segmentation map), "
                + "which acdc does not train yet (the design: docs/finetune.md, dense outputs); compress it without "
                + "--train-data");
    }

    /** The number of classes (the last dimension of the model's first output). */
    static int classes(Model m) {
        long[] so = outputShape(m);
        return (int) so[so.length - 1];
    }

    private static long[] outputShape(Model m) {
        return ShapeInference.infer(m).get(m.graph().outputs().get(0).name()).shape();
    }

    private static Trainer.Evaluator top1On(Dataset data, Settings s) {
        if (data == null || !data.hasLabels()) {
            return null;
        }
        return m -> {
            try (ModelIO io = new ModelIO(OnnxModels.toBytes(m), s.sessions(), q -> { })) {
                return Validator.top1(io, data, s.pre(), s.evalBatch());
            }
        };
    }

    private static FineTuneSection report(Trainer.Result r, Dataset train, Dataset select, Dataset eval,
                                          TrainOptions o, List<FineTuneSection.Epoch> curve) {
        return new FineTuneSection(r.backend(), train.describe(), train.size(),
                select == null ? null : select.describe(), select == null ? 0 : select.size(),
                eval == null ? 0 : eval.size(), select == null ? "last epoch" : "selection split",
                eval == null ? null : eval.describe(), FineTuneSection.Settings.of(o), curve, r.bestEpoch(), r.steps(),
                r.seconds(), r.imagesPerSecond());
    }

    /**
     * ONNX Runtime on the written model against SameDiff on the same weights: max |logit diff| on a probe
     * batch; over 1e-3 the export is wrong and nothing may be written (an internal error).
     */
    public static Consistency consistency(Model m, byte[] bytes, JobListener listener) {
        long[] shape = ModelSummary.of(m, null, bytes.length).inputShape().clone();
        shape[0] = Math.max(shape[0], 1);
        float[] x = Probe.randomInput(shape, 77);
        float[] ort;
        try (var s = Sessions.open(bytes, Sessions.Config.cpu(), q -> { })) {
            ort = Probe.run(s.session(), x, shape);
        }
        SameDiffGraph g = SameDiffGraph.build(m, n -> false);
        float[] sd = g.output(x, shape);
        double max = 0;
        for (int i = 0; i < ort.length; i++) {
            max = Math.max(max, Math.abs(ort[i] - sd[i]));
        }
        listener.note(String.format("ONNX Runtime vs SameDiff on the written weights (probe %s): max |logit diff| %.2g",
                Arrays.toString(shape), max));
        if (max > 1e-3) {
            throw new AcdcException(AcdcException.INTERNAL, "the written model disagrees with the "
                    + "trained graph (max |logit diff| " + max + " > 1e-3); nothing written", null);
        }
        return new Consistency(shape, max);
    }
}
