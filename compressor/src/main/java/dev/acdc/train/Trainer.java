package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Fine-tunes a (compact) model by distillation from a teacher: shuffled batches (seeded per epoch),
 * optional pad-crop-flip augmentation shared by student and teacher, SGD with Nesterov momentum or
 * Adam ({@link Optimizer}, gradients clipped to a global norm), weight decay, a per-step learning-rate
 * schedule, an evaluation after every epoch, and the best
 * epoch's weights kept. A NaN or infinite loss stops the run, naming the step, with the last good
 * weights in place.
 */
public final class Trainer {
    /** What the trainer reports as it goes. */
    public interface Listener {
        /** After each step: its loss, the gradient norm before clipping, and images/s so far. */
        void step(int step, int totalSteps, int epoch, double loss, double gradNorm, double imagesPerSecond);

        void epoch(EpochRecord record);
    }

    /** One epoch: mean training loss, evaluation accuracy (NaN without evaluation), seconds. */
    public record EpochRecord(int epoch, double loss, double evalTop1, double seconds, boolean best) {
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", epoch);
            m.put("loss", loss);
            m.put("evalTop1", Double.isNaN(evalTop1) ? null : evalTop1);
            m.put("seconds", seconds);
            m.put("best", best);
            return m;
        }
    }

    /** Evaluates the current weights (written back into the model) and returns top-1 in [0, 1]. */
    @FunctionalInterface
    public interface Evaluator {
        double top1(Model current);
    }

    /** The outcome: per-epoch records, which was best, steps and wall time. */
    public record Result(List<EpochRecord> epochs, int bestEpoch, int steps, double seconds, double imagesPerSecond,
                         String backend) {
    }

    /** Weight of a step's batch statistics in the BN running statistics (PyTorch's default). */
    static final double BN_MOMENTUM = 0.1;

    private Trainer() {
    }


    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluator eval, Listener listener) {
        return train(student, teacher, data, pre, o, eval, listener, null, false);
    }

    /**
     * As {@link #train(Model, Teacher, Dataset, Preprocessing, TrainOptions, Evaluator, Listener)}, writing a
     * {@link Checkpoint} into {@code checkpoint} (may be null) after every epoch, and with {@code resume}
     * continuing from the one there.
     */
    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluator eval, Listener listener, java.nio.file.Path checkpoint, boolean resume) {
        return train(student, teacher, data, pre, o, eval, listener, checkpoint, resume, null);
    }

    /**
     * As above; when {@code stop} (may be null) is requested, the run finishes the step it is in, writes a
     * checkpoint into {@code stop}'s folder and throws {@link StopSignal.Stopped}. Resuming from that
     * checkpoint continues inside the epoch with the same data order, augmentation and optimizer state.
     */
    public static Result train(Model student, Teacher teacher, Dataset data, Preprocessing pre, TrainOptions o,
                               Evaluator eval, Listener listener, java.nio.file.Path checkpoint, boolean resume,
                               StopSignal stop) {
        Nd4jSetup.init();
        pre.checkChannels(data.channels());
        dev.acdc.passes.PassManager.standard().run(student); // the model's own BatchNormalization is folded
        List<String> nonFinite = dev.acdc.ir.NonFiniteWeights.describe(student.graph());
        if (!nonFinite.isEmpty()) {
            throw new AcdcException("cannot fine-tune: weights hold non-finite values: " + String.join(", ", nonFinite));
        }
        int n = pre.limit() > 0 ? Math.min(pre.limit(), data.size()) : data.size();
        if (n == 0) {
            throw new AcdcException("the training data set is empty");
        }
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        long[] sample = {c, h, w};
        boolean augment = o.augment() != null ? o.augment() : c == 3 && h == 32 && w == 32;
        if (o.batchNorm()) {
            insertBatchNorm(student, data, pre, Math.min(n, Math.max(o.batch(), 64)));
        }
        Checkpoint.Loaded restored = resume && checkpoint != null ? Checkpoint.load(checkpoint, student) : null;
        SameDiffGraph g = SameDiffGraph.build(student, o::trains, o.batchNorm());
        if (g.variables().isEmpty()) {
            throw new AcdcException("--train " + o.train() + " selects no weights in this model (is it an acdc-compressed model?)");
        }
        long[] outShape = dev.acdc.ir.ShapeInference.infer(student).get(student.graph().outputs().get(0).name()).shape();
        int classes = (int) outShape[outShape.length - 1];
        boolean labels = data.hasLabels() && o.ceWeight() > 0;
        Distillation.add(g, classes, o.temperature(), o.kdWeight(), o.ceWeight(), labels);
        int perEpoch = (n + o.batch() - 1) / o.batch();
        int total = o.maxSteps() > 0 ? Math.min(o.maxSteps(), perEpoch * o.epochs()) : perEpoch * o.epochs();
        Schedule lr = new Schedule(o.schedule(), o.lr(), total);
        Optimizer opt = new Optimizer(o.optimizer().equals("adam"), o.momentum(), o.weightDecay(), o.clip());
        List<String> names = new ArrayList<>();
        Map<String, INDArray> params = new LinkedHashMap<>();
        for (String v : g.variables()) {
            names.add(g.sdName(v));
            params.put(g.sdName(v), g.sameDiff().getVariable(g.sdName(v)).getArr());
        }

        List<EpochRecord> records = new ArrayList<>();
        Map<String, Tensor> best = null;
        double bestTop1 = -1;
        int bestEpoch = 0;
        int step = 0;
        int firstEpoch = 1;
        int skipBatches = 0;
        double carriedLoss = 0;
        double carriedSeconds = 0;
        if (restored != null) {
            opt.restore(restored.optimizer(), restored.optimizerSteps(), names);
            Checkpoint.State st = restored.state();
            firstEpoch = st.epoch() + 1;
            step = st.step();
            skipBatches = st.batchesDone();
            carriedLoss = st.lossSum();
            carriedSeconds = st.epochSeconds();
            bestEpoch = st.bestEpoch();
            bestTop1 = st.bestTop1();
            for (Map<String, Object> rec : st.records()) {
                records.add(new EpochRecord((int) Checkpoint.num(rec.get("epoch")), Checkpoint.num(rec.get("loss")),
                        Checkpoint.num(rec.get("evalTop1")), Checkpoint.num(rec.get("seconds")), (Boolean) rec.get("best")));
            }
            if (restored.best() != null) {
                best = new LinkedHashMap<>();
                for (String v : g.state()) {
                    best.put(v, restored.best().get(v));
                }
            }
        }
        long t0 = System.nanoTime();
        long images = 0;
        byte[] pixels = new byte[o.batch() * data.imageBytes()];
        int epochs = o.epochs();
        for (int epoch = firstEpoch; epoch <= epochs && step < total; epoch++) {
            long te = System.nanoTime();
            int[] order = permutation(n, new Random(o.seed() * 1_000_003L + epoch));
            double lossSum = carriedLoss;
            int lossCount = skipBatches;
            double before = carriedSeconds;
            int firstBatch = skipBatches;
            skipBatches = 0;
            carriedLoss = 0;
            carriedSeconds = 0;
            for (int b = firstBatch; b < perEpoch; b++) {
                if (step >= total) {
                    break;
                }
                // seeded per step, so a run resumed inside an epoch augments its batches the same way
                Random aug = new Random(o.seed() * 7919L + step);
                int start = b * o.batch();
                int m = Math.min(o.batch(), n - start);
                float[] x = new float[m * c * h * w];
                int[] y = new int[m];
                readShuffled(data, order, start, m, pixels, y);
                pre.apply(pixels, m, c, h, w, x);
                if (augment) {
                    Augment.padCropFlip(x, m, c, h, w, 4, aug);
                }
                float[] t = teacher.logits(x, m, sample);
                if (t.length != m * classes) {
                    throw new AcdcException("the teacher gives " + t.length / m + " outputs per image, the student "
                            + classes);
                }
                Map<String, INDArray> ph = new java.util.HashMap<>();
                ph.put(SameDiffGraph.INPUT, Nd4j.create(x, new long[] {m, c, h, w}, 'c'));
                ph.put(Distillation.TEACHER, Nd4j.create(t, new long[] {m, classes}, 'c'));
                if (labels) {
                    ph.put(Distillation.LABELS, oneHot(y, classes));
                }
                double[] lossAndNorm = step(g, ph, names, params, opt, lr.valueAt(step, epoch - 1), step == 0, m);
                double loss = lossAndNorm[0];
                step++;
                images += m;
                if (!Double.isFinite(loss)) {
                    // the model still holds the weights written back after the last finished epoch
                    throw new AcdcException("the loss became " + loss + " at step " + step + " (epoch " + epoch
                            + "); try a lower --lr. Nothing from this epoch is kept");
                }
                lossSum += loss;
                lossCount++;
                double secs = (System.nanoTime() - t0) / 1e9;
                listener.step(step, total, epoch, loss, lossAndNorm[1], images / secs);
                if (stop != null && stop.requested() && step < total) {
                    g.writeBack();
                    List<Map<String, Object>> recs = new ArrayList<>();
                    records.forEach(r -> recs.add(r.json()));
                    Checkpoint.save(stop.folder(), student, opt, new Checkpoint.State(epoch - 1, step, bestEpoch,
                            bestTop1, recs, b + 1, lossSum, before + (System.nanoTime() - te) / 1e9), best);
                    throw new StopSignal.Stopped(step, epoch, stop.folder());
                }
            }
            g.writeBack();
            double top1 = eval == null ? Double.NaN : eval.top1(student);
            boolean isBest = eval == null ? epoch == epochs || step >= total : top1 > bestTop1;
            if (isBest) {
                bestTop1 = top1;
                bestEpoch = epoch;
                best = snapshot(student, g);
            }
            EpochRecord rec = new EpochRecord(epoch, lossCount == 0 ? Double.NaN : lossSum / lossCount, top1,
                    before + (System.nanoTime() - te) / 1e9, isBest);
            records.add(rec);
            if (checkpoint != null) {
                List<Map<String, Object>> recs = new ArrayList<>();
                records.forEach(r -> recs.add(r.json()));
                Checkpoint.save(checkpoint, student, opt, new Checkpoint.State(epoch, step, bestEpoch, bestTop1, recs,
                        0, 0, 0), best);
            }
            listener.epoch(rec);
            if (step >= total) {
                break;
            }
        }
        if (best != null) {
            for (Tensor t : best.values()) {
                student.graph().putInitializer(t);
            }
        }
        if (o.batchNorm()) {
            foldBatchNorm(student);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Result(records, bestEpoch, step, secs, images / secs, Nd4jSetup.describe());
    }

    /**
     * One optimisation step: loss and gradients in one pass, then the update. The first call builds
     * the gradient graph, whose ND4J chatter on standard output is muted. Returns the loss before the step
     * and the gradient norm before clipping.
     */
    private static double[] step(SameDiffGraph g, Map<String, INDArray> ph, List<String> names,
                               Map<String, INDArray> params, Optimizer opt, double lr, boolean first, int batch) {
        OutAndGrad og;
        PrintStream out = System.out;
        if (first) {
            System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
        }
        try {
            List<String> outputs = new ArrayList<>();
            outputs.add(Distillation.LOSS);
            outputs.addAll(g.batchStatOutputs());
            og = g.sameDiff().calculateGradientsAndOutputs(ph, outputs, names);
        } finally {
            System.setOut(out);
        }
        double loss = og.getOutputs().get(Distillation.LOSS).getDouble(0);
        double norm = Double.NaN;
        if (Double.isFinite(loss)) {
            norm = opt.step(params, og.getGradients(), lr);
            g.updateRunningStats(og.getOutputs(), batch, BN_MOMENTUM);
        }
        // A step's activations and gradients live off-heap and are freed only when the JVM collects
        // their (small) Java handles; collecting every step lets the allocator reuse that memory
        // instead of mapping fresh pages — about 2.5x faster steps on the 2-core machine.
        System.gc();
        return new double[] {loss, norm};
    }

    /**
     * Puts BatchNormalization after every convolution ({@link TrainingBatchNorm}), calibrated on the first
     * {@code count} training images (preprocessed, not augmented) so the model's function is unchanged.
     */
    static void insertBatchNorm(Model student, Dataset data, Preprocessing pre, int count) {
        List<String> convs = TrainingBatchNorm.convOutputs(student);
        if (convs.isEmpty()) {
            return;
        }
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        byte[] pixels = new byte[count * data.imageBytes()];
        int[] y = new int[count];
        data.read(0, count, pixels, y);
        float[] x = new float[count * c * h * w];
        pre.apply(pixels, count, c, h, w, x);
        SameDiffGraph plain = SameDiffGraph.build(student, name -> false);
        Map<String, float[][]> stats = plain.channelStats(Nd4j.create(x, new long[] {count, c, h, w}, 'c'), convs);
        TrainingBatchNorm.insert(student, stats);
    }

    /** Folds the training BNs away: into plain conv weights where possible, else a per-channel scale and shift. */
    static void foldBatchNorm(Model student) {
        dev.acdc.passes.PassManager pm = new dev.acdc.passes.PassManager(List.of(new dev.acdc.passes.FoldBatchNorm(),
                new dev.acdc.passes.BatchNormToAffine()));
        pm.run(student);
    }

    private static Map<String, Tensor> snapshot(Model m, SameDiffGraph g) {
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (String name : g.state()) {
            s.put(name, m.graph().initializer(name));
        }
        return s;
    }

    static int[] permutation(int n, Random r) {
        return dev.acdc.data.Sampling.permutation(n, r);
    }

    private static void readShuffled(Dataset d, int[] order, int start, int m, byte[] pixels, int[] labels) {
        int img = d.imageBytes();
        byte[] one = new byte[img];
        int[] lab = new int[1];
        for (int k = 0; k < m; k++) {
            d.read(order[start + k], 1, one, lab);
            System.arraycopy(one, 0, pixels, k * img, img);
            labels[k] = lab[0];
        }
    }

    private static INDArray oneHot(int[] y, int classes) {
        float[] f = new float[y.length * classes];
        for (int i = 0; i < y.length; i++) {
            if (y[i] >= 0 && y[i] < classes) {
                f[i * classes + y[i]] = 1;
            }
        }
        return Nd4j.create(f, new long[] {y.length, classes}, 'c');
    }
}
