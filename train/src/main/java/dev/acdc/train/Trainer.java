package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.ir.Model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tunes a (compact) model by distillation from a teacher: the {@link TrainingLoop} (order,
 * augmentation, schedule, epochs, stop and resume) over the {@link Nd4jBackend}, with the divergence
 * guard, the best-epoch keeper (on the selection split, never on the reported evaluation) and, when
 * asked, a checkpoint after every epoch. With training-mode BatchNormalization the BNs are folded
 * away again at the end, so the model keeps its exported structure.
 */
public final class Trainer {
    /** What the trainer reports as it goes. */
    public interface Listener {
        /** After each step: its loss, the gradient norm before clipping, and images/s so far. */
        void step(int step, int totalSteps, int epoch, double loss, double gradNorm, double imagesPerSecond);

        void epoch(EpochRecord record);

        /** A one-line fact about the set-up (e.g. how the BatchNormalizations start). */
        default void note(String line) {
        }
    }

    /** Evaluates the current weights (written back into the model) and returns top-1 in [0, 1]. */
    @FunctionalInterface
    public interface Evaluator {
        double top1(Model current);
    }

    /**
     * {@code select}: scores each epoch on held-out training images, and the best-scoring epoch is kept
     * (null: the last epoch is kept); {@code report}: measured after each epoch and only reported.
     */
    public record Evaluators(Evaluator select, Evaluator report) {
        public static Evaluators none() {
            return new Evaluators(null, null);
        }
    }

    /** The outcome: per-epoch records, which was kept, steps and wall time. */
    public record Result(List<EpochRecord> epochs, int bestEpoch, int steps, double seconds, double imagesPerSecond,
                         String backend) {
    }

    private Trainer() {
    }

    /** As the full form, without selection (the last epoch is kept), checkpoints or a stop signal. */
    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluators eval, Listener listener) {
        return train(student, teacher, data, pre, o, eval, listener, null, false, null);
    }

    /** As the full form, writing a checkpoint into {@code checkpoint} after every epoch, and resuming from it. */
    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluators eval, Listener listener, Path checkpoint, boolean resume) {
        return train(student, teacher, data, pre, o, eval, listener, checkpoint, resume, null);
    }

    /**
     * Fine-tunes {@code student} in place on {@code data}. {@code checkpoint} (may be null): a folder that
     * gets a {@link Checkpoint} after every epoch; with {@code resume} the run continues from the one there.
     * When {@code stop} (may be null) is requested, the run finishes its step, writes a checkpoint into
     * {@code stop}'s folder and throws {@link StopSignal.Stopped}; resuming from it continues inside the
     * epoch with the same data order, augmentation and optimizer state.
     */
    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluators eval, Listener listener, Path checkpoint, boolean resume, StopSignal stop) {
        return train(student, teacher, data, pre, o, eval, listener, checkpoint, resume, stop, TrainingBackend.ND4J);
    }

    /** As above, on the engine {@code backends} makes (another ND4J backend, another engine; docs/scaling.md). */
    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluators eval, Listener listener, Path checkpoint, boolean resume, StopSignal stop,
                               TrainingBackend.Factory backends) {
        pre.checkChannels(data.channels());
        dev.acdc.passes.PassManager.standard().run(student); // the model's own BatchNormalization is folded
        List<String> nonFinite = dev.acdc.ir.NonFiniteWeights.describe(student.graph());
        if (!nonFinite.isEmpty()) {
            throw new AcdcException("cannot fine-tune: weights hold non-finite values: " + String.join(", ", nonFinite));
        }
        int n = data.size();
        if (n == 0) {
            throw new AcdcException("the training data set is empty");
        }
        long[] sample = pre.sample(data.channels(), data.height(), data.width());
        int calib = o.trainingBatchNorm() ? Math.min(n, Math.max(o.batch(), 256)) : 0;
        float[] x = calib == 0 ? new float[0] : firstImages(data, pre, calib);
        if (o.trainingBatchNorm()) {
            int convs = TrainingBatchNorm.convOutputs(student).size();
            int restored = Nd4jBackend.insertBatchNorm(student, x, calib, sample,
                    teacher == null || o.batchNormStart() != TrainOptions.BatchNormStart.TEACHER ? null
                            : teacher.model());
            String start = restored == 0 ? "each starts as the identity"
                    : (restored == convs ? "all" : restored + " of them") + " start at the teacher's statistics of "
                    + "the same conv" + (restored == convs ? "" : ", " + (convs - restored) + " as the identity");
            listener.note("batch-norm: " + convs + " BatchNormalizations in training mode, running statistics from "
                    + calib + " training images; " + start);
        }
        // a checkpoint's weights replace the model's before the backend copies them
        Checkpoint.Loaded restored = resume && checkpoint != null ? Checkpoint.load(checkpoint, student) : null;
        TrainingBackend backend = backends.create(student, o, data.hasLabels());
        Evaluators ev = eval == null ? Evaluators.none() : eval;
        List<TrainingLoop.Listener> listeners = new ArrayList<>();
        listeners.add(new TrainingLoop.DivergenceGuard());
        listeners.add(new TrainingLoop.BestEpochKeeper(ev.select() != null));
        if (checkpoint != null) {
            listeners.add(new TrainingLoop.CheckpointWriter(checkpoint));
        }
        listeners.add(progress(listener));
        TrainingLoop.Run run = new TrainingLoop(o, data, pre, teacher, ev, listeners).run(student, backend, restored, stop);
        if (o.trainingBatchNorm()) {
            foldBatchNorm(student);
        }
        // the file says it was fine-tuned, on what and how (the exporter's and the fit's keys stay)
        student.metadata().put(RECORD_KEY, record(data.describe(), o, run.bestEpoch, run.step));
        return new Result(run.records(), run.bestEpoch, run.step, run.seconds, run.imagesPerSecond, backend.describe());
    }

    /** The metadata key of the fine-tune's record in the written model. */
    public static final String RECORD_KEY = "acdc.finetuned";

    /**
     * The fine-tune's record: the data (as described), the epochs, the epoch kept, the steps taken, the loss,
     * the optimizer, the BatchNormalization mode and what was trained. A size plan made before the run
     * writes it with upper bounds for the two counts to know the bytes it will take.
     */
    public static String record(String data, TrainOptions o, int keptEpoch, long steps) {
        Map<String, Object> meta = new java.util.LinkedHashMap<>();
        meta.put("data", data);
        meta.put("epochs", o.epochs());
        meta.put("keptEpoch", keptEpoch);
        meta.put("steps", steps);
        meta.put("loss", o.kdWeight() > 0 ? "distillation from the teacher (T " + o.temperature() + ", weight "
                + o.kdWeight() + ") + cross-entropy (weight " + o.ceWeight() + ")" : "cross-entropy on labels");
        meta.put("optimizer", TrainOptions.spell(o.optimizer()) + " lr " + o.lr() + " " + TrainOptions.spell(o.schedule()));
        meta.put("batchNorm", TrainOptions.spell(o.batchNorm()));
        meta.put("trained", TrainOptions.spell(o.train()));
        return dev.acdc.util.Json.compact(meta);
    }

    private static TrainingLoop.Listener progress(Listener l) {
        return new TrainingLoop.Listener() {
            @Override
            public void step(TrainingLoop.Run run, int step, int total, int epoch, TrainingBackend.StepResult r,
                             double ips) {
                l.step(step, total, epoch, r.loss(), r.gradNorm(), ips);
            }

            @Override
            public void epoch(TrainingLoop.Run run, EpochRecord record) {
                l.epoch(record);
            }
        };
    }

    /** The first {@code count} images, preprocessed, not augmented (the BN calibration batch). */
    private static float[] firstImages(Dataset data, Preprocessing pre, int count) {
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        byte[] pixels = new byte[count * data.imageBytes()];
        data.read(0, count, pixels, new int[count]);
        float[] x = new float[count * c * h * w];
        pre.apply(pixels, count, c, h, w, x);
        return x;
    }

    /** Folds the training BNs away: into plain conv weights where possible, else a per-channel scale and shift. */
    /** Folds the training BNs away for export: into plain convs' weights, else into a per-channel affine. */
    public static void foldBatchNorm(Model student) {
        dev.acdc.passes.PassManager pm = new dev.acdc.passes.PassManager(List.of(new dev.acdc.passes.FoldBatchNorm(),
                new dev.acdc.passes.BatchNormToAffine()));
        pm.run(student);
    }
}
