package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.data.Sampling;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The training loop, free of any tensor engine: data order (a permutation seeded by (seed, epoch)),
 * augmentation (seeded by (seed, step)), the teacher's logits for each batch, the learning-rate
 * schedule, epochs and the step budget, a stop request, and resuming from a checkpoint. The
 * {@link TrainingBackend} does the arithmetic; {@link Listener}s do the rest, in order: the
 * {@link DivergenceGuard}, the {@link BestEpochKeeper}, the {@link CheckpointWriter} and the caller's
 * progress. A run resumed from a checkpoint ends with the same weights as an uninterrupted one.
 */
public final class TrainingLoop {
    /** Told about every step and every epoch; may throw to end the run. */
    public interface Listener {
        default void step(Run run, int step, int totalSteps, int epoch, TrainingBackend.StepResult result,
                          double imagesPerSecond) {
        }

        /** After an epoch's weights are written back into the model and evaluated. */
        default void epoch(Run run, EpochRecord record) {
        }

        /** After the last epoch. */
        default void finished(Run run) {
        }
    }

    /** What the loop and its listeners share: the model, the backend, progress and the kept epoch. */
    public static final class Run {
        final Model model;
        final TrainingBackend backend;
        final List<EpochRecord> records = new ArrayList<>();
        int step;
        double seconds;
        double imagesPerSecond;
        int bestEpoch;
        double bestScore = Double.NEGATIVE_INFINITY;
        Map<String, Tensor> best;

        Run(Model model, TrainingBackend backend) {
            this.model = model;
            this.backend = backend;
        }

        public Model model() {
            return model;
        }

        public List<EpochRecord> records() {
            return List.copyOf(records);
        }

        List<Map<String, Object>> recordsJson() {
            List<Map<String, Object>> out = new ArrayList<>();
            records.forEach(r -> out.add(r.json()));
            return out;
        }

        /** The trained tensors as they are in the model now. */
        Map<String, Tensor> snapshot() {
            Map<String, Tensor> s = new LinkedHashMap<>();
            for (String name : backend.state()) {
                s.put(name, model.graph().initializer(name));
            }
            return s;
        }
    }

    private final TrainOptions o;
    private final Dataset data;
    private final Preprocessing pre;
    private final Teacher teacher;
    private final Trainer.Evaluators evaluators;
    private final List<Listener> listeners;

    TrainingLoop(TrainOptions o, Dataset data, Preprocessing pre, Teacher teacher, Trainer.Evaluators evaluators,
                 List<Listener> listeners) {
        this.o = o;
        this.data = data;
        this.pre = pre;
        this.teacher = teacher;
        this.evaluators = evaluators;
        this.listeners = listeners;
    }

    /** Steps per epoch and in all. */
    static int perEpoch(int n, int batch) {
        return (n + batch - 1) / batch;
    }

    Run run(Model student, TrainingBackend backend, Checkpoint.Loaded restored, StopSignal stop) {
        int n = data.size();
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        long[] sample = pre.sample(c, h, w);
        Preprocessing planes = pre.channelsFirst(); // augmented as planes, then laid out as the model reads
        boolean augment = o.augment() != null ? o.augment() : c == 3 && h == 32 && w == 32;
        int perEpoch = perEpoch(n, o.batch());
        int total = o.maxSteps() > 0 ? Math.min(o.maxSteps(), perEpoch * o.epochs()) : perEpoch * o.epochs();
        Schedule lr = new Schedule(o.schedule(), o.lr(), total, o.warmup());
        Run run = new Run(student, backend);
        int firstEpoch = 1;
        int skipBatches = 0;
        double carriedLoss = 0;
        double carriedSeconds = 0;
        if (restored != null) {
            backend.restoreOptimizer(restored.optimizer(), restored.optimizerSteps());
            Checkpoint.State st = restored.state();
            firstEpoch = st.epoch() + 1;
            run.step = st.step();
            skipBatches = st.batchesDone();
            carriedLoss = st.lossSum();
            carriedSeconds = st.epochSeconds();
            run.bestEpoch = st.bestEpoch();
            run.bestScore = Double.isNaN(st.bestTop1()) ? Double.NEGATIVE_INFINITY : st.bestTop1();
            for (Map<String, Object> rec : st.records()) {
                run.records.add(EpochRecord.fromJson(rec));
            }
            if (restored.best() != null) {
                run.best = new LinkedHashMap<>();
                for (String v : backend.state()) {
                    run.best.put(v, restored.best().get(v));
                }
            }
        }
        long t0 = System.nanoTime();
        long images = 0;
        byte[] pixels = new byte[o.batch() * data.imageBytes()];
        for (int epoch = firstEpoch; epoch <= o.epochs() && run.step < total; epoch++) {
            long te = System.nanoTime();
            int[] order = Sampling.permutation(n, new Random(o.seed() * 1_000_003L + epoch));
            double lossSum = carriedLoss;
            int lossCount = skipBatches;
            double before = carriedSeconds;
            int firstBatch = skipBatches;
            skipBatches = 0;
            carriedLoss = 0;
            carriedSeconds = 0;
            for (int b = firstBatch; b < perEpoch && run.step < total; b++) {
                // seeded per step, so a run resumed inside an epoch augments its batches the same way
                Random aug = new Random(o.seed() * 7919L + run.step);
                int start = b * o.batch();
                int m = Math.min(o.batch(), n - start);
                float[] x = new float[m * c * h * w];
                int[] y = new int[m];
                readShuffled(data, order, start, m, pixels, y, o.seed() * 7919L + run.step);
                planes.apply(pixels, m, c, h, w, x);
                if (augment && o.augmentMode() == TrainOptions.AugmentMode.BATCH) {
                    Augment.reflectCropFlipBatch(x, m, c, h, w, 4, aug);
                } else if (augment) {
                    Augment.padCropFlip(x, m, c, h, w, 4, aug);
                }
                x = pre.layout(x, m, c, h, w);
                float[] t = teacher.logits(x, m, sample);
                if (t.length != m * backend.classes()) {
                    throw new AcdcException("the teacher gives " + t.length / m + " outputs per image, the student "
                            + backend.classes());
                }
                TrainingBackend.StepResult r = backend.step(new TrainingBackend.Batch(x, m, sample, t, y),
                        lr.valueAt(run.step, epoch - 1), lr.momentumAt(run.step, o.cycleMomentum(), o.momentum()));
                run.step++;
                images += m;
                double ips = images / ((System.nanoTime() - t0) / 1e9);
                for (Listener l : listeners) {
                    l.step(run, run.step, total, epoch, r, ips);
                }
                lossSum += r.loss();
                lossCount++;
                if (stop != null && stop.requested() && run.step < total) {
                    backend.writeBack();
                    Checkpoint.save(stop.folder(), student, backend, new Checkpoint.State(epoch - 1, run.step,
                            run.bestEpoch, run.bestScore, run.recordsJson(), b + 1, lossSum,
                            before + (System.nanoTime() - te) / 1e9), run.best);
                    throw new StopSignal.Stopped(run.step, epoch, stop.folder());
                }
            }
            backend.writeBack();
            double select = evaluators.select() == null ? Double.NaN : evaluators.select().top1(student);
            double report = evaluators.report() == null ? Double.NaN : evaluators.report().top1(student);
            run.records.add(new EpochRecord(epoch, lossCount == 0 ? Double.NaN : lossSum / lossCount, report,
                    select, before + (System.nanoTime() - te) / 1e9, false));
            for (Listener l : listeners) { // each sees the record as the ones before it left it (best or not)
                l.epoch(run, run.records.get(run.records.size() - 1));
            }
        }
        for (Listener l : listeners) {
            l.finished(run);
        }
        run.imagesPerSecond = images / Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
        run.seconds = (System.nanoTime() - t0) / 1e9;
        return run;
    }

    private static void readShuffled(Dataset d, int[] order, int start, int m, byte[] pixels, int[] labels, long seed) {
        int img = d.imageBytes();
        byte[] one = new byte[img];
        int[] lab = new int[1];
        for (int k = 0; k < m; k++) {
            d.readForTraining(order[start + k], one, lab, seed * 1_000_003L + k);
            System.arraycopy(one, 0, pixels, k * img, img);
            labels[k] = lab[0];
        }
    }

    // ------------------------------------------------------------------ listeners

    /** Ends the run at the first non-finite loss, naming the step; the model keeps the last finished epoch's weights. */
    public static final class DivergenceGuard implements Listener {
        @Override
        public void step(Run run, int step, int total, int epoch, TrainingBackend.StepResult r, double ips) {
            if (!Double.isFinite(r.loss())) {
                throw new AcdcException("the loss became " + r.loss() + " at step " + step + " (epoch " + epoch
                        + "); try a lower --lr. Nothing from this epoch is kept");
            }
        }
    }

    /**
     * Keeps the weights of the epoch with the best selection score (top-1 on the held-out split of the
     * training data; the later epoch on a tie), or of the last epoch when there is no selection; puts them into the model at the end.
     * The reported evaluation never takes part.
     */
    public static final class BestEpochKeeper implements Listener {
        private final boolean selecting;

        BestEpochKeeper(boolean selecting) {
            this.selecting = selecting;
        }

        @Override
        public void epoch(Run run, EpochRecord rec) {
            // a tie goes to the later epoch: the schedule has lowered the rate since, and on a hold-out of
            // a few hundred images a tie is within the noise
            if (!selecting || rec.selectTop1() >= run.bestScore) {
                run.bestScore = selecting ? rec.selectTop1() : Double.NaN;
                run.bestEpoch = rec.epoch();
                run.best = run.snapshot();
                run.records.set(run.records.size() - 1, rec.asBest());
            }
        }

        @Override
        public void finished(Run run) {
            if (run.best != null) {
                for (Tensor t : run.best.values()) {
                    run.model.graph().putInitializer(t);
                }
            }
        }
    }

    /** Writes a {@link Checkpoint} into a folder after every epoch. */
    public static final class CheckpointWriter implements Listener {
        private final Path folder;

        CheckpointWriter(Path folder) {
            this.folder = folder;
        }

        @Override
        public void epoch(Run run, EpochRecord rec) {
            Checkpoint.save(folder, run.model, run.backend, new Checkpoint.State(rec.epoch(), run.step, run.bestEpoch,
                    run.bestScore, run.recordsJson(), 0, 0, 0), run.best);
        }
    }
}
