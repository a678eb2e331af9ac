package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/**
 * Trains one segment of a compressed network to reproduce the original network's output of the same
 * segment (feature mimicking): the segment is a model of its own ({@code dev.acdc.analysis.Segments}),
 * its inputs and targets are activations computed beforehand, and the loss is the mean squared
 * difference. Labels are never used. Adam with a cosine-decaying rate over a fixed number of passes.
 * <p>
 * The images are split: every {@code holdoutEvery}-th one is held out and never trained on; the error on
 * it is measured before and after, and when training did not lower it the segment's weights are left as
 * they were, so recovery never raises the held-out error it reports.
 */
public final class SegmentTrainer {
    /** Passes over the images, batch size, Adam's peak rate, the shuffling seed, the held-out share. */
    public record Options(int epochs, int batch, double lr, long seed, int holdoutEvery) {
        public Options {
            if (epochs < 0 || batch < 1 || !(lr > 0) || holdoutEvery < 2) {
                throw new IllegalArgumentException("segment training options out of range");
            }
        }
    }

    /** Relative errors (MSE / mean square of the target) on the held-out images before and after. */
    public record Result(double before, double after, boolean kept, int steps, int trained, int heldOut,
                         double seconds) {
    }

    /** After each step: the step, the total and the batch's relative error. */
    @FunctionalInterface
    public interface Listener {
        void step(int step, int total, double relError);
    }

    private static final String TARGET = "target";
    private static final String LOSS = "loss";

    private SegmentTrainer() {
    }

    /**
     * Trains the initializers of {@code segment} that {@code trainable} picks, in place: {@code x} holds
     * {@code n} inputs of {@code inSample} floats' shape each, {@code y} the targets of {@code outSample}.
     */
    public static Result train(Model segment, Predicate<String> trainable, float[] x, long[] inSample, float[] y,
                               long[] outSample, int n, Options o, Listener listener) {
        long t0 = System.nanoTime();
        Nd4jSetup.init();
        SameDiffGraph g = SameDiffGraph.build(segment, trainable);
        if (g.variables().isEmpty()) {
            throw new AcdcException("the segment ending at '" + segment.graph().outputs().get(0).name()
                    + "' has no weights to train");
        }
        SameDiff sd = g.sameDiff();
        long[] outShape = withBatch(-1, outSample);
        SDVariable target = sd.placeHolder(TARGET, DataType.FLOAT, outShape);
        SDVariable d = g.logits().sub(target);
        d.mul(d).mean().rename(LOSS);
        sd.setLossVariables(LOSS);
        List<String> names = new ArrayList<>();
        Map<String, INDArray> params = new LinkedHashMap<>();
        Map<String, INDArray> initial = new HashMap<>();
        for (String v : g.variables()) {
            String s = g.sdName(v);
            names.add(s);
            INDArray a = sd.getVariable(s).getArr();
            params.put(s, a);
            initial.put(s, a.dup());
        }
        int in = size(inSample);
        int out = size(outSample);
        List<Integer> train = new ArrayList<>();
        List<Integer> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            (i % o.holdoutEvery() == o.holdoutEvery() - 1 ? held : train).add(i);
        }
        double before = error(g, x, y, held, in, out, inSample, o.batch());
        Optimizer opt = new Optimizer(true, 0, 0, 0);
        int perEpoch = (train.size() + o.batch() - 1) / o.batch();
        int total = perEpoch * o.epochs();
        Random rnd = new Random(o.seed());
        int step = 0;
        PrintStream stdout = System.out;
        for (int e = 0; e < o.epochs(); e++) {
            java.util.Collections.shuffle(train, rnd);
            for (int s = 0; s < train.size(); s += o.batch()) {
                List<Integer> idx = train.subList(s, Math.min(train.size(), s + o.batch()));
                Map<String, INDArray> ph = new HashMap<>();
                ph.put(SameDiffGraph.INPUT, gather(x, idx, in, inSample));
                INDArray t = gather(y, idx, out, outSample);
                ph.put(TARGET, t);
                OutAndGrad og;
                if (step == 0) { // building the gradient graph prints ND4J chatter on standard output
                    System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
                }
                try {
                    og = sd.calculateGradientsAndOutputs(ph, List.of(LOSS), names);
                } finally {
                    System.setOut(stdout);
                }
                double loss = og.getOutputs().get(LOSS).getDouble(0);
                double lr = o.lr() * 0.5 * (1 + Math.cos(Math.PI * step / Math.max(1, total)));
                if (Double.isFinite(loss)) {
                    opt.step(params, og.getGradients(), lr, 0);
                }
                step++;
                if (listener != null) {
                    double ms = t.mul(t).meanNumber().doubleValue();
                    listener.step(step, total, ms > 0 ? loss / ms : loss);
                }
                System.gc(); // frees the step's off-heap arrays promptly (see Nd4jBackend.step)
            }
        }
        double after = error(g, x, y, held, in, out, inSample, o.batch());
        boolean kept = held.isEmpty() ? step > 0 : after < before;
        if (kept) {
            g.writeBack();
        } else {
            for (Map.Entry<String, INDArray> e : initial.entrySet()) {
                params.get(e.getKey()).assign(e.getValue());
            }
        }
        return new Result(before, kept ? after : before, kept, step, train.size(), held.size(),
                (System.nanoTime() - t0) / 1e9);
    }

    /** The segment's relative error on the chosen images: Σ(out − y)² / Σy². */
    private static double error(SameDiffGraph g, float[] x, float[] y, List<Integer> idx, int in, int out,
                                long[] inSample, int batch) {
        if (idx.isEmpty()) {
            return Double.NaN;
        }
        double num = 0;
        double den = 0;
        for (int s = 0; s < idx.size(); s += batch) {
            List<Integer> part = idx.subList(s, Math.min(idx.size(), s + batch));
            float[] pred = g.output(gather(x, part, in, inSample)).dup('c').data().asFloat();
            for (int k = 0; k < part.size(); k++) {
                int off = part.get(k) * out;
                for (int j = 0; j < out; j++) {
                    double t = y[off + j];
                    double dv = pred[k * out + j] - t;
                    num += dv * dv;
                    den += t * t;
                }
            }
        }
        return den > 0 ? num / den : num;
    }

    private static INDArray gather(float[] src, List<Integer> idx, int per, long[] sample) {
        float[] b = new float[idx.size() * per];
        for (int k = 0; k < idx.size(); k++) {
            System.arraycopy(src, idx.get(k) * per, b, k * per, per);
        }
        return Nd4j.create(b, withBatch(idx.size(), sample), 'c');
    }

    private static long[] withBatch(long n, long[] sample) {
        long[] s = new long[sample.length + 1];
        s[0] = n;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    private static int size(long[] sample) {
        long p = 1;
        for (long d : sample) {
            p *= d;
        }
        return Math.toIntExact(p);
    }
}
