package dev.acdc.runtime.calibration;

import dev.acdc.decompose.AtomBudget;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.DecompositionMethods;
import dev.acdc.decompose.Plan;
import dev.acdc.decompose.Settings;
import dev.acdc.decompose.SharingSet;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.SensitivitySection;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.Validator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Per-set sensitivity: for each sharing set and each candidate atom count, the error of the network's
 * output when only that set is compressed (SVD fit) and every other convolution stays dense — the mean
 * KL(original ‖ compressed) of the softmax outputs and the top-1 agreement with the original on the
 * calibration images, run in ONNX Runtime. The curves go into the compression report when calibration
 * data are given ({@link #section}) and into {@code acdc sensitivity}; {@link SizeTarget} allocates by
 * the weight-error curves instead (why: there).
 */
public final class Sensitivity {
    /** The default candidate atom counts for 3×3 kernels (capped by each set's rank). */
    public static final int[] CANDIDATES_3X3 = {1, 2, 3, 4, 6, 9};

    /** One measured point: {@code atoms} ({@link Settings#DENSE}: dense), parameters, KL and agreement. */
    public record Point(int atoms, long params, double kl, double agreement) {
    }

    /** One set's curve, in increasing atoms, ending with the dense point (KL 0, agreement 1). */
    public record Curve(String set, String shape, List<String> convs, long denseParams, List<Point> points) {
        /** The options the allocation chooses from, the error being the KL. */
        public List<AtomBudget.Option> options() {
            List<AtomBudget.Option> o = new ArrayList<>();
            for (Point p : points) {
                o.add(new AtomBudget.Option(p.atoms(), p.params(), p.kl()));
            }
            return o;
        }
    }

    private Sensitivity() {
    }

    /**
     * The candidate atom counts of a set: {@code candidates} for 3×3 kernels, else 1..⌈2/3·kh·kw⌉ on a
     * similar spread; each capped by the set's rank, duplicates dropped.
     */
    static List<Integer> candidates(SharingSet s, int[] candidates3x3) {
        int[] base = s.pointwise() ? pointwiseSpread(s) : s.shape()[2] == 3 && s.shape()[3] == 3 ? candidates3x3
                : spread(s.shape()[2] * s.shape()[3]);
        List<Integer> out = new ArrayList<>();
        for (int m : base) {
            int c = Math.min(m, s.maxAtoms());
            if (c >= 1 && !out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** A pointwise set's ranks: 1/16, 1/8, 1/4, 1/2 and 3/4 of the rank at which its factors hold as many weights as it. */
    private static int[] pointwiseSpread(SharingSet s) {
        double useful = (double) s.shape()[1] * s.blocks() / (s.shape()[1] + s.blocks());
        double[] fractions = {0.0625, 0.125, 0.25, 0.5, 0.75};
        int[] out = new int[fractions.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) Math.max(1, Math.round(fractions[i] * useful));
        }
        return out;
    }

    private static int[] spread(int taps) {
        int top = Math.max(1, (2 * taps + 2) / 3);
        return new int[] {1, Math.max(1, top / 6), Math.max(1, top / 3), Math.max(1, top / 2), top, taps};
    }

    /**
     * Measures every set of the plan {@code settings} gives for {@code model} (which is not changed), with
     * every other set dense. {@code progress} gets a line per set.
     */
    public static List<Curve> measure(Model model, Settings settings, CalibrationImages images, int[] candidates3x3,
                                      Consumer<String> progress) {
        return measure(model, settings, images, candidates3x3, false, progress);
    }

    /**
     * As above; with {@code inContext} every other set keeps the atoms {@code settings} give it instead of
     * staying dense, so each point is the network's error with that one set changed inside the compressed
     * network — where the sets' errors compound, which curves measured alone miss — and the dense point
     * is measured too.
     */
    public static List<Curve> measure(Model model, Settings settings, CalibrationImages images, int[] candidates3x3,
                                      boolean inContext, Consumer<String> progress) {
        return measure(new Evaluator(model, images), settings, candidates3x3, inContext, progress);
    }

    static List<Curve> measure(Evaluator eval, Settings settings, int[] candidates3x3, boolean inContext,
                               Consumer<String> progress) {
        Plan plan = eval.plan(settings);
        List<Curve> curves = new ArrayList<>();
        // each candidate count is one evaluation of the network on the images: the unit of the time left
        int evaluations = 0;
        for (SharingSet set : plan.sets()) {
            evaluations += candidates(set, candidates3x3).size() + (inContext ? 1 : 0);
        }
        dev.acdc.runtime.TimeLeft clock = new dev.acdc.runtime.TimeLeft(evaluations);
        int evaluated = 0;
        int k = 0;
        for (SharingSet set : plan.sets()) {
            k++;
            List<Point> points = new ArrayList<>();
            List<Integer> counts = new ArrayList<>(candidates(set, candidates3x3));
            if (inContext) {
                counts.add(Settings.DENSE);
            }
            for (int m : counts) {
                Map<String, Integer> atoms = new LinkedHashMap<>();
                for (SharingSet other : plan.sets()) {
                    atoms.put(other.id(), other == set ? m : inContext ? other.atoms() : Settings.DENSE);
                }
                double[] e = eval.error(settings.withSetAtoms(atoms));
                evaluated++;
                points.add(new Point(m, AtomBudget.params(set, m), e[1], e[0]));
            }
            if (!inContext) {
                points.add(new Point(Settings.DENSE, set.denseParams(), 0, 1));
            }
            List<String> convs = set.members().stream().map(c -> c.name()).toList();
            curves.add(new Curve(set.id(), set.shapeString(), convs, set.denseParams(), points));
            Point first = points.get(0);
            progress.accept(String.format(java.util.Locale.ROOT, "sensitivity %d/%d %s: %d atom(s) KL %.3g, agreement %.1f %%%s",
                    k, plan.sets().size(), set.id(), first.atoms(), first.kl(), 100 * first.agreement(),
                    clock.after(evaluated)));
        }
        return curves;
    }

    /**
     * The network's output error, {agreement, mean KL}, against the original on the calibration images, of
     * compressions of one model (SVD fit, or refined by a given fit); equal settings are measured once.
     */
    /**
     * A copy of a model made ready for decomposition (the standard passes run) and the sharing sets
     * {@code settings} make of it, every set at the settings' count (no per-set atoms).
     */
    record Planned(Model model, Plan plan) {
        static Planned of(byte[] model, Settings settings) {
            Model m = OnnxModels.fromBytes(model, null);
            dev.acdc.decompose.Compressor.prepare(m, settings);
            return new Planned(m, DecompositionMethods.get(settings.method()).plan(m, settings.withSetAtoms(Map.of()),
                    line -> { }));
        }
    }

    static final class Evaluator {
        private final byte[] original;
        private final CalibrationImages images;
        private final float[] reference;
        private final dev.acdc.decompose.Refinement fit;
        private final Map<Settings, double[]> seen = new java.util.HashMap<>();
        private final Map<Settings, boolean[]> agrees = new java.util.HashMap<>();

        Evaluator(Model model, CalibrationImages images) {
            this(model, images, null);
        }

        /** With {@code fit} (null: the SVD fit alone) refining every compression that is measured. */
        Evaluator(Model model, CalibrationImages images, dev.acdc.decompose.Refinement fit) {
            this.original = OnnxModels.toBytes(model);
            this.images = images;
            this.fit = fit;
            try (ModelIO io = new ModelIO(original, Sessions.Config.cpu(), s -> { })) {
                reference = run(io, images);
            }
        }

        /** The sets {@code settings} make of the model. */
        Plan plan(Settings settings) {
            return Planned.of(original, settings).plan();
        }

        /**
         * {agreement with the original, mean KL to it, top-1 on the images' labels (NaN without labels)} of
         * the model compressed with {@code s} (and the fit).
         */
        double[] error(Settings s) {
            double[] e = seen.get(s);
            if (e == null) {
                Model work = OnnxModels.fromBytes(original, null);
                Compressor.compress(work, s, x -> { }, fit);
                try (ModelIO io = new ModelIO(OnnxModels.toBytes(work), Sessions.Config.cpu(), x -> { })) {
                    float[] y = run(io, images);
                    double[] ak = compare(reference, y, images.count());
                    e = new double[] {ak[0], ak[1], top1(y, images.labels(), images.count())};
                    agrees.put(s, agreeing(reference, y, images.count()));
                }
                seen.put(s, e);
            }
            return e;
        }

        /** Per image, whether the model compressed with {@code s} agrees with the original (measures it if needed). */
        boolean[] agrees(Settings s) {
            error(s);
            return agrees.get(s).clone();
        }

        /** The number of images the scores are over. */
        int images() {
            return images.count();
        }

        /** The original's top-1 on the images' labels (NaN without labels). */
        double referenceTop1() {
            return top1(reference, images.labels(), images.count());
        }
    }

    /**
     * The report's section of {@code curves} (measured on {@code images}), each set marked with the atoms
     * {@code used} gave it ("dense" where the plan left it out).
     */
    public static SensitivitySection section(List<Curve> curves, CalibrationImages images, Plan used) {
        Map<String, Integer> atoms = new java.util.HashMap<>();
        for (SharingSet s : used.sets()) {
            atoms.put(s.id(), s.atoms());
        }
        List<SensitivitySection.SetCurve> sets = new ArrayList<>();
        for (Curve c : curves) {
            List<SensitivitySection.Point> points = new ArrayList<>();
            for (Point p : c.points()) {
                points.add(new SensitivitySection.Point(atomsString(p.atoms()), p.params(), p.kl(), p.agreement()));
            }
            Integer a = atoms.get(c.set());
            sets.add(new SensitivitySection.SetCurve(c.set(), c.shape(), c.denseParams(),
                    a == null ? "dense" : atomsString(a), points));
        }
        return new SensitivitySection(images.sample(), "SVD fit", sets);
    }

    private static String atomsString(int atoms) {
        return atoms == Settings.DENSE ? "dense" : Integer.toString(atoms);
    }

    private static float[] run(ModelIO io, CalibrationImages images) {
        int per = images.perSample();
        int batch = io.fixedBatch() > 0 ? io.fixedBatch() : 64;
        float[] out = null;
        int classes = 0;
        for (int start = 0; start < images.count(); start += batch) {
            int n = Math.min(batch, images.count() - start);
            float[] x = new float[batch * per];
            for (int i = 0; i < batch; i++) {
                System.arraycopy(images.x(), (start + Math.min(i, n - 1)) * per, x, i * per, per);
            }
            int rows = io.fixedBatch() > 0 ? batch : n;
            float[] y = io.run(rows == batch ? x : java.util.Arrays.copyOf(x, n * per), rows, images.sampleShape());
            if (out == null) {
                classes = y.length / rows;
                out = new float[images.count() * classes];
            }
            System.arraycopy(y, 0, out, start * classes, n * classes);
        }
        return out;
    }

    /** The fraction of n rows of logits whose argmax is the label; NaN when {@code labels} is null. */
    static double top1(float[] logits, int[] labels, int n) {
        if (labels == null) {
            return Double.NaN;
        }
        int classes = logits.length / n;
        long right = 0;
        for (int i = 0; i < n; i++) {
            right += Validator.argmax(logits, i * classes, classes) == labels[i] ? 1 : 0;
        }
        return (double) right / n;
    }

    /** Per row of n rows of logits, whether a's and b's top classes agree. */
    static boolean[] agreeing(float[] a, float[] b, int n) {
        int classes = a.length / n;
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = Validator.agree(Validator.argmax(a, i * classes, classes), Validator.argmax(b, i * classes, classes));
        }
        return out;
    }

    /** {agreement, mean KL(a ‖ b)} of n rows of logits. */
    static double[] compare(float[] a, float[] b, int n) {
        int classes = a.length / n;
        long agree = 0;
        for (boolean x : agreeing(a, b, n)) {
            agree += x ? 1 : 0;
        }
        double kl = 0;
        for (int i = 0; i < n; i++) {
            double d = OutputFitter.kl(a, b, i * classes, classes);
            kl += Double.isFinite(d) ? d : Double.MAX_VALUE / n;
        }
        return new double[] {(double) agree / n, kl / n};
    }
}
