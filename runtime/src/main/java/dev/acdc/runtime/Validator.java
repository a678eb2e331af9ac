package dev.acdc.runtime;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;

import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

/**
 * Runs an original and a candidate model over the same preprocessed batches and measures them
 * against each other and against the labels. Batches are read and preprocessed on a second thread
 * while ONNX Runtime works, so the data pipeline hides behind inference.
 */
public final class Validator {
    /** Progress after each batch: samples done and total. */
    public interface Progress {
        void update(int done, int total);
    }

    /** Batch size (for symbolic-batch models), session config, whether to ignore labels. */
    public record Options(int batch, Sessions.Config sessions, boolean ignoreLabels) {
    }

    private Validator() {
    }

    private record Batch(float[] x, int[] labels, int n) {
    }

    private static final Batch END = new Batch(null, null, 0);

    public static ValidationResult validate(byte[] original, byte[] candidate, Dataset data, Preprocessing pre,
                                            Options opt, Consumer<String> notice, Progress progress) {
        pre.checkChannels(data.channels());
        try (ModelIO a = new ModelIO(original, opt.sessions(), notice);
             ModelIO b = new ModelIO(candidate, opt.sessions(), s -> { })) {
            long[] sample = sampleShape(a, data, pre);
            checkSame(a, b);
            int total = data.size();
            if (total == 0) {
                throw new AcdcException("the data set is empty");
            }
            int batch = a.fixedBatch() > 0 ? a.fixedBatch() : Math.max(1, opt.batch());
            boolean labels = data.hasLabels() && !opt.ignoreLabels();
            BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(3);
            RuntimeException[] failure = new RuntimeException[1];
            Thread producer = new Thread(() -> produce(data, pre, sample, total, batch, a.fixedBatch() > 0, queue, failure),
                    "acdc-data");
            producer.setDaemon(true);
            long t0 = System.nanoTime();
            producer.start();
            int done = 0;
            long top1a = 0;
            long top1b = 0;
            long top5a = 0;
            long top5b = 0;
            long agree = 0;
            double maxDiff = 0;
            double sumDiff = 0;
            long diffCount = 0;
            int classes = -1;
            while (true) {
                Batch bt;
                try {
                    bt = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AcdcException("interrupted");
                }
                if (bt == END) {
                    break;
                }
                float[] ya = a.run(bt.x, bt.x.length / perSample(sample), sample);
                float[] yb = b.run(bt.x, bt.x.length / perSample(sample), sample);
                int rows = bt.x.length / perSample(sample);
                if (classes < 0) {
                    classes = ya.length / rows;
                    if (yb.length != ya.length) {
                        throw new AcdcException("the models' outputs differ: " + classes + " vs " + yb.length / rows
                                + " values per sample");
                    }
                }
                for (int i = 0; i < bt.n; i++) {
                    int pa = argmax(ya, i * classes, classes);
                    int pb = argmax(yb, i * classes, classes);
                    agree += agree(pa, pb) ? 1 : 0;
                    if (labels) {
                        int y = bt.labels[i];
                        if (y < 0 || y >= classes) {
                            throw new AcdcException("label " + y + " of image " + (done + i) + " is out of range for a model "
                                    + "with " + classes + " outputs");
                        }
                        top1a += pa == y ? 1 : 0;
                        top1b += pb == y ? 1 : 0;
                        if (classes >= 5) {
                            top5a += inTop5(ya, i * classes, classes, y) ? 1 : 0;
                            top5b += inTop5(yb, i * classes, classes, y) ? 1 : 0;
                        }
                    }
                    for (int k = 0; k < classes; k++) {
                        double d = Math.abs(ya[i * classes + k] - yb[i * classes + k]);
                        maxDiff = Math.max(maxDiff, d);
                        sumDiff += d;
                    }
                    diffCount += classes;
                }
                done += bt.n;
                progress.update(done, total);
            }
            if (failure[0] != null) {
                throw failure[0];
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            double n = done;
            boolean top5 = labels && classes >= 5;
            return new ValidationResult(done, a.provider(), data.describe(), labels, labels ? top1a / n : Double.NaN,
                    top5 ? top5a / n : Double.NaN, labels ? top1b / n : Double.NaN, top5 ? top5b / n : Double.NaN,
                    agree / n, maxDiff, diffCount == 0 ? 0 : sumDiff / diffCount, secs, pre);
        }
    }

    private static void produce(Dataset data, Preprocessing pre, long[] sample, int total, int batch, boolean fixed,
                                BlockingQueue<Batch> queue, RuntimeException[] failure) {
        int per = perSample(sample);
        byte[] pixels = new byte[batch * data.imageBytes()];
        try {
            for (int start = 0; start < total; start += batch) {
                int n = Math.min(batch, total - start);
                int[] lab = new int[n];
                data.read(start, n, pixels, lab);
                // a fixed-batch model gets its full batch: the tail is padded with copies and ignored
                int rows = fixed ? batch : n;
                float[] x = new float[rows * per];
                pre.apply(pixels, n, data.channels(), data.height(), data.width(), x);
                for (int r = n; r < rows; r++) {
                    System.arraycopy(x, 0, x, r * per, per);
                }
                queue.put(new Batch(x, lab, n));
            }
        } catch (RuntimeException e) {
            failure[0] = e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                queue.put(END);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The per-sample input shape the model wants, checked against the data. */
    static long[] sampleShape(ModelIO m, Dataset data, Preprocessing pre) {
        return checkImagesFit(m.inputShape(), data, pre);
    }

    /**
     * The per-sample shape {@code data}'s images take after {@code pre}; refused, naming both shapes,
     * unless a model whose input is {@code in} (N first; unknown dimensions negative) takes them.
     */
    public static long[] checkImagesFit(long[] in, Dataset data, Preprocessing pre) {
        long[] want = pre.nhwc() ? new long[] {data.height(), data.width(), data.channels()}
                : new long[] {data.channels(), data.height(), data.width()};
        if (in.length != 4) {
            throw new AcdcException("the model's input has rank " + in.length + "; acdc feeds images as rank-4 "
                    + (pre.nhwc() ? "NHWC" : "NCHW") + " batches");
        }
        for (int i = 0; i < 3; i++) {
            if (in[i + 1] > 0 && in[i + 1] != want[i]) {
                throw new AcdcException("the model expects input " + shapeString(in) + " but the data are "
                        + data.channels() + "x" + data.height() + "x" + data.width() + " images (layout "
                        + (pre.nhwc() ? "nhwc" : "nchw") + ")" + (data instanceof dev.acdc.data.FolderDataset
                        ? "; bring folder images to the model's size with --resize N --crop HxW (or --preset imagenet)"
                        : ""));
            }
        }
        return want;
    }

    private static void checkSame(ModelIO a, ModelIO b) {
        long[] x = a.inputShape();
        long[] y = b.inputShape();
        if (x.length != y.length) {
            throw new AcdcException("original input " + shapeString(x) + " and candidate input " + shapeString(y) + " differ");
        }
        for (int i = 1; i < x.length; i++) {
            if (x[i] > 0 && y[i] > 0 && x[i] != y[i]) {
                throw new AcdcException("original input " + shapeString(x) + " and candidate input " + shapeString(y)
                        + " differ");
            }
        }
    }

    static String shapeString(long[] s) {
        return Arrays.toString(s).replace("-1", "N");
    }

    static int perSample(long[] sample) {
        int p = 1;
        for (long d : sample) {
            p *= (int) d;
        }
        return p;
    }

    /** The index of the largest of v[off, off + n), or -1 when any of them is NaN (a NaN output predicts nothing). */
    public static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(v[off + i])) {
                return -1;
            }
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }

    /** Whether two predictions agree: equal and neither from a NaN output. */
    public static boolean agree(int a, int b) {
        return a >= 0 && a == b;
    }

    static boolean inTop5(float[] v, int off, int n, int label) {
        float target = v[off + label];
        int greater = 0;
        for (int i = 0; i < n; i++) {
            if (v[off + i] > target || v[off + i] == target && i < label) {
                greater++;
            }
        }
        return greater < 5;
    }

    /** Top-1 of one model on a labelled data set (per-epoch evaluation while fine-tuning). */
    public static double top1(ModelIO m, Dataset data, Preprocessing pre, int batchSize) {
        if (!data.hasLabels()) {
            throw new AcdcException("the evaluation data have no labels");
        }
        long[] sample = sampleShape(m, data, pre);
        int total = data.size();
        int batch = m.fixedBatch() > 0 ? m.fixedBatch() : batchSize;
        int per = perSample(sample);
        byte[] pixels = new byte[batch * data.imageBytes()];
        int[] lab = new int[batch];
        long correct = 0;
        for (int start = 0; start < total; start += batch) {
            int n = Math.min(batch, total - start);
            data.read(start, n, pixels, lab);
            float[] x = new float[(m.fixedBatch() > 0 ? batch : n) * per];
            pre.apply(pixels, n, data.channels(), data.height(), data.width(), x);
            float[] y = m.run(x, x.length / per, sample);
            int classes = y.length / (x.length / per);
            for (int i = 0; i < n; i++) {
                correct += argmax(y, i * classes, classes) == lab[i] ? 1 : 0;
            }
        }
        return correct / (double) total;
    }

    /**
     * The baseline of the validate benchmark: all batches preprocessed up front, then a bare loop that
     * runs both models on them with no metrics. Returns images per second.
     */
    public static double bareLoop(byte[] original, byte[] candidate, Dataset data, Preprocessing pre, Options opt) {
        try (ModelIO a = new ModelIO(original, opt.sessions(), s -> { });
             ModelIO b = new ModelIO(candidate, opt.sessions(), s -> { })) {
            long[] sample = sampleShape(a, data, pre);
            int total = data.size();
            int batch = a.fixedBatch() > 0 ? a.fixedBatch() : opt.batch();
            int per = perSample(sample);
            java.util.List<float[]> batches = new java.util.ArrayList<>();
            byte[] pixels = new byte[batch * data.imageBytes()];
            for (int start = 0; start < total; start += batch) {
                int n = Math.min(batch, total - start);
                data.read(start, n, pixels, null);
                float[] x = new float[(a.fixedBatch() > 0 ? batch : n) * per];
                pre.apply(pixels, n, data.channels(), data.height(), data.width(), x);
                batches.add(x);
            }
            long t0 = System.nanoTime();
            for (float[] x : batches) {
                a.run(x, x.length / per, sample);
                b.run(x, x.length / per, sample);
            }
            return total / ((System.nanoTime() - t0) / 1e9);
        }
    }
}
