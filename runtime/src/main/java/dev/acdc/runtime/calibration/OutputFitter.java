package dev.acdc.runtime.calibration;

import dev.acdc.AcdcException;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.ConvStatistics;
import dev.acdc.decompose.Decomposition;
import dev.acdc.decompose.OutputFit;
import dev.acdc.decompose.Refinement;
import dev.acdc.decompose.SharingSet;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.OutputFitSection;
import dev.acdc.runtime.DirectFloats;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.Validator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The output-matching fit (docs/method.md), run on ONNX Runtime. Sets are fitted in the order of
 * their first convolution. For each set, the calibration images go through two pruned models: the
 * original (exposing the set's conv outputs, the targets) and the network as compressed so far
 * (exposing the set's conv inputs: every earlier set already output-fitted, the rest at its SVD
 * fit). Their im2col statistics ({@link ConvStatistics}, accumulated by GEMM in ONNX Runtime batch by
 * batch, so no activation outlives its batch) feed {@link OutputFit}; the fitted factors and biases
 * then replace the set's in the compressed network before the next set.
 */
public final class OutputFitter implements Refinement {
    /** ALS iterations per set at most, by default (it stops earlier when E improves by less than 1e-5 relative). */
    public static final int ITERATIONS = 20;
    /** Rows of a conv's statistics over all calibration images at most, per unit of its im2col width d. */
    static final int ROWS_PER_WIDTH = 256;

    private final CalibrationImages images;
    private final int batch;
    private final int iterations;
    private final boolean residual;
    private OutputFitSection summary;
    /** Convs whose statistics took a sample of the output positions: rows used and rows in all. */
    private final Map<String, long[]> sampledConvs = new LinkedHashMap<>();

    /**
     * {@code residual}: a conv whose output goes straight into a residual {@code Add} is fitted to
     * make that sum match the original's (its target gains the other branch's difference, original
     * minus compressed), so it also compensates the error the shortcut carries.
     */
    public OutputFitter(CalibrationImages images, int batch, int iterations, boolean residual) {
        this.images = images;
        this.batch = Math.max(1, batch);
        this.iterations = iterations;
        this.residual = residual;
    }

    @Override
    public String id() {
        return "output";
    }

    /** Calibration settings and network-level agreement before/after, for the report (null before {@link #refine}). */
    public OutputFitSection summary() {
        return summary;
    }

    @Override
    public List<String> refine(Model m, Decomposition d, Consumer<String> progress) {
        long t0 = System.nanoTime();
        List<String> notes = new ArrayList<>();
        Graph og = m.graph();
        if (og.dataInputs().size() != 1) {
            throw new AcdcException("the output fit needs a model with one input, this one has " + og.dataInputs().size());
        }
        String input = og.dataInputs().get(0).name();
        long[] declared = og.dataInputs().get(0).shape();
        int step = declared != null && declared.length > 0 && declared[0] > 0 ? (int) declared[0] : batch;
        Model work = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        Graph wg = work.graph();
        List<ConvPlan> decomposed = d.plan().decomposed();
        Map<ConvPlan, float[]> svdKernels = new LinkedHashMap<>();
        for (ConvPlan cp : decomposed) {
            svdKernels.put(cp, d.kernel(cp));
            setWeights(wg, og, cp, svdKernels.get(cp), null);
        }
        String logits = og.outputs().get(0).name();
        double[] before = agreement(m, work, logits, input, step);
        List<SharingSet> sets = new ArrayList<>(d.plan().sets());
        sets.sort(Comparator.comparingInt(s -> s.members().stream().mapToInt(c -> og.nodes().indexOf(c.node()))
                .min().orElse(0)));
        int done = 0;
        FitClock clock = new FitClock(sets);
        long statsNanos = 0;
        long solveNanos = 0;
        // the two copies of the activations at a cut may take a quarter of the heap
        ActivationFrontier frontier = new ActivationFrontier(m, work, images, input, step,
                Runtime.getRuntime().maxMemory() / 4);
        try (GramSession gram = new GramSession()) {
            for (SharingSet s : sets) {
                done++;
                String why = unsupported(s);
                if (why != null) {
                    notes.add("output fit: set " + s.id() + " kept at its SVD fit (" + why + ")");
                    clock.skip(s);
                    continue;
                }
                progress.accept(String.format("output fit: set %d/%d %s (%d conv%s%s)", done, sets.size(), s.id(),
                        s.members().size(), s.members().size() == 1 ? "" : "s", clock.left()));
                long setStats = statsNanos;
                long setSolve = solveNanos;
                long ts = System.nanoTime();
                Map<ConvPlan, ConvStatistics> stats = statistics(m, work, s.members(), input, frontier, gram);
                long tf = System.nanoTime();
                statsNanos += tf - ts;
                Map<ConvPlan, float[]> atoms0 = new LinkedHashMap<>();
                Map<ConvPlan, float[]> bias0 = new LinkedHashMap<>();
                for (ConvPlan cp : s.members()) {
                    atoms0.put(cp, d.atoms(cp));
                    bias0.put(cp, bias(og, cp.node()));
                }
                OutputFit.Result r = OutputFit.fit(s, stats, d.coefficients(s.id()), atoms0, bias0, iterations);
                d.apply(s, r, og);
                for (ConvPlan cp : s.members()) {
                    setWeights(wg, og, cp, d.kernel(cp), d.bias(cp));
                }
                solveNanos += System.nanoTime() - tf;
                if (s.members().size() > 1) {
                    // second pass: each member's atoms and bias again, in order, on the inputs the set's
                    // fitted predecessors now produce
                    for (ConvPlan cp : s.members()) {
                        long t1 = System.nanoTime();
                        ConvStatistics st = statistics(m, work, List.of(cp), input, frontier, gram).get(cp);
                        long t2 = System.nanoTime();
                        statsNanos += t2 - t1;
                        OutputFit.Result one = OutputFit.fitAtoms(s, cp, st, d.coefficients(s.id()), d.atoms(cp),
                                svdKernels.get(cp), bias0.get(cp));
                        d.applyConv(cp, one, og);
                        setWeights(wg, og, cp, d.kernel(cp), d.bias(cp));
                        solveNanos += System.nanoTime() - t2;
                    }
                }
                clock.done(s, (statsNanos - setStats) / 1e9, (solveNanos - setSolve) / 1e9);
            }
        }
        if (!sampledConvs.isEmpty()) {
            Map.Entry<String, long[]> most = sampledConvs.entrySet().stream()
                    .max(Comparator.comparingLong(e -> e.getValue()[1])).orElseThrow();
            notes.add(String.format(Locale.ROOT, "output fit: statistics of %d of %d convs on a seeded sample of each "
                    + "image's output positions (at most %d rows per unit of im2col width; %s: %,d of %,d rows)",
                    sampledConvs.size(), decomposed.size(), ROWS_PER_WIDTH, most.getKey(), most.getValue()[0],
                    most.getValue()[1]));
        }
        double[] after = agreement(m, work, logits, input, step);
        summary = new OutputFitSection(images.sample(), iterations, residual ? "residual sum" : "conv output",
                before[0], after[0], before[1], after[1], statsNanos / 1e9, solveNanos / 1e9,
                (System.nanoTime() - t0) / 1e9);
        progress.accept(String.format("output fit: top-1 agreement with the original on the %d calibration images "
                + "%.1f %% (SVD fit: %.1f %%)", images.count(), 100 * after[0], 100 * before[0]));
        return notes;
    }

    private static String unsupported(SharingSet s) {
        for (ConvPlan cp : s.members()) {
            if (cp.node().is("ConvTranspose")) {
                return cp.name() + " is a transposed convolution";
            }
            if (cp.group() != 1) {
                return cp.name() + " is a grouped convolution";
            }
            if (cp.oneD()) {
                return cp.name() + " is a 1-D convolution";
            }
            String pad = cp.node().attrString("auto_pad", "NOTSET");
            if (!pad.equals("NOTSET") && !pad.equals("VALID") && !pad.startsWith("SAME_")) {
                return cp.name() + " has auto_pad " + pad;
            }
        }
        return null;
    }

    /** Statistics of every member of {@code s}: inputs from {@code work}, targets from {@code orig}. */
    private Map<ConvPlan, ConvStatistics> statistics(Model orig, Model work, List<ConvPlan> members, String input,
                                                     ActivationFrontier frontier, GramSession gram) {
        Set<String> ins = new LinkedHashSet<>();
        Set<String> outs = new LinkedHashSet<>();
        Map<ConvPlan, String> branch = new LinkedHashMap<>();
        Map<ConvPlan, String> inputOf = new LinkedHashMap<>();
        for (ConvPlan cp : members) {
            Node n = work.graph().nodes().get(orig.graph().nodes().indexOf(cp.node()));
            inputOf.put(cp, n.input(0));
            ins.add(n.input(0));
            outs.add(cp.node().output(0));
            String other = residual ? otherBranch(orig.graph(), cp.node().output(0), input) : null;
            if (other != null) {
                branch.put(cp, other);
                ins.add(other);
                outs.add(other);
            }
        }
        Map<ConvPlan, ConvStatistics> stats = new LinkedHashMap<>();
        Map<ConvPlan, Im2col> layouts = new LinkedHashMap<>();
        float[][] buffers = new float[2][];
        frontier.forEach(outs, ins, batch -> {
            int n = batch.n();
            Map<String, ActivationFrontier.Activation> a = batch.original();
            Map<String, ActivationFrontier.Activation> wa = batch.work();
            for (ConvPlan cp : members) {
                ActivationFrontier.Activation x = wa.get(inputOf.get(cp));
                ActivationFrontier.Activation y = a.get(cp.node().output(0));
                String other = branch.get(cp);
                if (other != null) {
                    // target: the original sum minus the compressed other branch
                    float[] yo = y.data().clone();
                    float[] so = a.get(other).data();
                    float[] sw = wa.get(other).data();
                    for (int i = 0; i < yo.length; i++) {
                        yo[i] += so[i] - sw[i];
                    }
                    y = new ActivationFrontier.Activation(yo, y.shape());
                }
                if (x.shape().length != 4 || y.shape().length != 4) {
                    throw new AcdcException("output fit: " + cp.name() + " input or output is not 4-D");
                }
                int c = (int) x.shape()[1];
                int h = (int) x.shape()[2];
                int w = (int) x.shape()[3];
                int o = (int) y.shape()[1];
                int oh = (int) y.shape()[2];
                int ow = (int) y.shape()[3];
                Im2col layout = layouts.computeIfAbsent(cp, k -> Im2col.of(cp.node(), c, (int) cp.kernel()[2],
                        (int) cp.kernel()[3], h, w));
                int dsz = layout.patchSize();
                ConvStatistics st = stats.computeIfAbsent(cp, k -> new ConvStatistics(dsz, o));
                int[][] positions = positions(cp, dsz, oh * ow, batch.start(), n);
                int r = positions == null ? n * oh * ow : Arrays.stream(positions).mapToInt(q -> q.length).sum();
                if (buffers[0] == null || buffers[0].length < r * dsz) {
                    buffers[0] = new float[r * dsz];
                }
                if (buffers[1] == null || buffers[1].length < r * o) {
                    buffers[1] = new float[r * o];
                }
                if (positions == null) {
                    layout.patches(x.data(), 0, n, h, w, oh, ow, buffers[0]);
                    Im2col.rows(y.data(), 0, n, o, oh * ow, buffers[1]);
                } else {
                    layout.patches(x.data(), 0, n, h, w, oh, ow, positions, buffers[0]);
                    Im2col.rows(y.data(), 0, n, o, oh * ow, positions, buffers[1]);
                }
                float[][] pr = gram.products(buffers[0], buffers[1], r, dsz, o);
                st.add(r, pr[0], pr[1], buffers[0], buffers[1]);
            }
        });
        return stats;
    }


    /**
     * The output positions of images {@code start .. start+n} whose rows enter conv {@code cp}'s statistics, or
     * null for all of them. A least-squares fit of d unknowns per output needs rows in proportion to d, not to
     * the image area: each image contributes a seeded sample of its positions, as many as keep the conv's
     * rows over all calibration images within {@value #ROWS_PER_WIDTH}·d (at least one per image).
     */
    int[][] positions(ConvPlan cp, int d, int plane, int start, int n) {
        long all = (long) images.count() * plane;
        long cap = (long) ROWS_PER_WIDTH * d;
        if (all <= cap) {
            return null;
        }
        int k = (int) Math.max(1, Math.min(plane, Math.ceil((double) cap / images.count())));
        sampledConvs.merge(cp.name(), new long[] {(long) k * images.count(), all}, (u, v) -> v);
        int[][] out = new int[n][];
        for (int i = 0; i < n; i++) {
            SplittableRandom rnd = new SplittableRandom(cp.name().hashCode() * 0x9E3779B97F4A7C15L + start + i);
            int[] perm = new int[plane];
            for (int p = 0; p < plane; p++) {
                perm[p] = p;
            }
            for (int p = 0; p < k; p++) {
                int q = p + rnd.nextInt(plane - p);
                int t = perm[p];
                perm[p] = perm[q];
                perm[q] = t;
            }
            int[] sel = Arrays.copyOf(perm, k);
            Arrays.sort(sel);
            out[i] = sel;
        }
        return out;
    }

    /**
     * When {@code value} feeds only a two-input {@code Add} whose other input is computed (not an
     * initializer nor the graph input), that other input; else null.
     */
    static String otherBranch(Graph g, String value, String input) {
        List<Node> users = g.consumers(value);
        if (users.size() != 1 || g.isGraphOutput(value)) {
            return null;
        }
        Node add = users.get(0);
        if (!add.is("Add") || add.inputs().size() != 2 || add.input(0).equals(add.input(1))) {
            return null;
        }
        String other = add.input(0).equals(value) ? add.input(1) : add.input(0);
        if (g.isInitializer(other) || other.equals(input) || g.producer(other) == null) {
            return null;
        }
        return other;
    }

    /** Top-1 agreement and mean KL(original ‖ compressed) of the softmax outputs on the calibration images. */
    private double[] agreement(Model orig, Model work, String logits, String input, int step) {
        byte[] ob = ActivationModels.exposing(orig, List.of(logits));
        byte[] wb = ActivationModels.exposing(work, List.of(logits));
        int per = images.perSample();
        long[] shape = new long[images.sampleShape().length + 1];
        System.arraycopy(images.sampleShape(), 0, shape, 1, images.sampleShape().length);
        long agree = 0;
        double kl = 0;
        try (Sessions.Opened os = Sessions.open(ob, Sessions.Config.cpu(), x -> { });
             Sessions.Opened ws = Sessions.open(wb, Sessions.Config.cpu(), x -> { })) {
            float[] buf = new float[step * per];
            DirectFloats direct = new DirectFloats();
            for (int start = 0; start < images.count(); start += step) {
                int n = Math.min(step, images.count() - start);
                for (int k = 0; k < step; k++) {
                    System.arraycopy(images.x(), (start + Math.min(k, n - 1)) * per, buf, k * per, per);
                }
                shape[0] = step;
                float[] ya = ActivationFrontier.run(os.session(), input, buf, shape, direct).get(logits).data();
                float[] yb = ActivationFrontier.run(ws.session(), input, buf, shape, direct).get(logits).data();
                int classes = ya.length / step;
                for (int i = 0; i < n; i++) {
                    agree += Validator.agree(Validator.argmax(ya, i * classes, classes), Validator.argmax(yb, i * classes, classes)) ? 1 : 0;
                    kl += kl(ya, yb, i * classes, classes);
                }
            }
        }
        return new double[] {(double) agree / images.count(), kl / images.count()};
    }

    /** KL(softmax p ‖ softmax q) of one row of {@code n} logits at {@code off}, in nats. */
    public static double kl(float[] p, float[] q, int off, int n) {
        double mp = Double.NEGATIVE_INFINITY;
        double mq = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            mp = Math.max(mp, p[off + i]);
            mq = Math.max(mq, q[off + i]);
        }
        double zp = 0;
        double zq = 0;
        for (int i = 0; i < n; i++) {
            zp += Math.exp(p[off + i] - mp);
            zq += Math.exp(q[off + i] - mq);
        }
        double lzp = Math.log(zp) + mp;
        double lzq = Math.log(zq) + mq;
        double s = 0;
        for (int i = 0; i < n; i++) {
            double lp = p[off + i] - lzp;
            double lq = q[off + i] - lzq;
            s += Math.exp(lp) * (lp - lq);
        }
        return s;
    }

    private static float[] bias(Graph g, Node conv) {
        if (conv.inputs().size() < 3 || conv.input(2).isEmpty()) {
            return null;
        }
        Tensor b = g.initializer(conv.input(2));
        return b == null ? null : b.floats();
    }

    /** In {@code work}, gives conv {@code cp} the kernel {@code w} and (when not null) the bias {@code b}. */
    private static void setWeights(Graph work, Graph orig, ConvPlan cp, float[] w, float[] b) {
        Node n = work.nodes().get(orig.nodes().indexOf(cp.node()));
        String wname = dev.acdc.decompose.CompactExporter.scope(cp.name()) + "/fitted_kernel";
        work.putInitializer(Tensor.ofFloats(wname, cp.kernel(), w));
        n.setInput(1, wname);
        if (b != null) {
            String bname = dev.acdc.decompose.CompactExporter.scope(cp.name()) + "/fitted_bias";
            work.putInitializer(Tensor.ofFloats(bname, new long[] {b.length}, b));
            n.setOrAddInput(2, bname);
        }
    }
}
