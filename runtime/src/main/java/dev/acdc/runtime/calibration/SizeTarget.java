package dev.acdc.runtime.calibration;

import dev.acdc.AcdcException;
import dev.acdc.decompose.AtomBudget;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Plan;
import dev.acdc.decompose.Refinement;
import dev.acdc.decompose.Settings;
import dev.acdc.decompose.SharingSet;
import dev.acdc.decompose.WeightCurves;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.NormalizeFilters;
import dev.acdc.decompose.FileEncoding;
import dev.acdc.passes.PassManager;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code --target-size F}: per-set atom counts (or dense) for an output of at most F × the input's bytes.
 * The allocation minimises the summed {@link WeightCurves weight error} of the sets (each conv's SVD-fit
 * error relative to its kernel, one SVD per set giving every atom count from 1 to the largest still
 * smaller than dense, no data needed) with {@link AtomBudget}; the budget is then corrected by the bytes
 * the compression actually writes (graph overhead, shared tensors, what a fine-tune adds) until the
 * written size is within {@value #TOLERANCE_PCT} % below the target, or no allocation changes. Several
 * allocations are made so: the knapsack alone; with no set below one step under the largest uniform
 * count that fits, and none below that count; and with each conv's error weighted by its kernel size
 * (over the smaller floor), which gives the wide convs more; plus that uniform count when it is within
 * the same {@value #TOLERANCE_PCT} % of the target. Each is compressed with the run's fit and compared on
 * the calibration images; the one that agrees with the original most often is kept (KL on a tie,
 * uniform on a full tie).
 *
 * <p>Why weights and not the measured output curves of {@link Sensitivity}: on ResNet-20 at uniform 6
 * atoms' size the knapsack over in-context KL curves agreed with the original on fewer calibration
 * images than uniform (11.9 against 17.0 %), the weight-error one on more (docs/lab/results-log.md): the SVD-fit
 * network is near chance there, so its output error is dominated by a few saturated images and says
 * little about which set deserves the atoms, while each conv's own error does.
 */
public final class SizeTarget {
    static final double TOLERANCE_PCT = 2;
    /** How the progress line that starts one allocation's evaluation (the slow step) ends. */
    static final String EVALUATING = " on the calibration images";
    private static final int ROUNDS = 16;
    /** The judge's order: more agreement with the original first (top-1 is what it predicts), then lower KL. */
    private static final java.util.Comparator<Tried> BETTER_FIRST = java.util.Comparator
            .comparingDouble(Tried::agreement).reversed().thenComparingDouble(Tried::kl);

    /**
     * One allocation that was tried: how it was made ({@code label}; {@code floor} 0: no least count, F: no
     * set below F atoms; {@code uniform}: the same count everywhere), its per-set options,
     * the bytes it writes, and its agreement, KL and top-1 (NaN: the images have no labels) on the
     * calibration images under the run's fit.
     */
    public record Tried(String label, int floor, boolean uniform, Map<String, AtomBudget.Option> choice, long bytes,
                        double agreement, double kl, double top1) {
        /** "floor 4: agreement 41.2 %, KL 1.234, 187,001 bytes" (and "top-1 38.1 %" where labelled). */
        public String line() {
            return String.format(java.util.Locale.ROOT, "%s: agreement %.1f %%, KL %.3f, %s%,d bytes", label,
                    100 * agreement, kl, Double.isNaN(top1) ? "" : String.format(java.util.Locale.ROOT,
                            "top-1 %.1f %%, ", 100 * top1), bytes);
        }
    }

    /**
     * How far the kept allocation leads the best of the others on the same calibration images:
     * {@code keptOnly} images only the kept one agrees with the original on, {@code runnerUpOnly} only the
     * other, of {@code images}. The noise is two standard errors of the paired per-image difference, so a
     * lead at or below it says the sample cannot tell the two apart.
     */
    public record Margin(String runnerUp, int keptOnly, int runnerUpOnly, int images) {
        /** The kept allocation's lead in agreement, in points. */
        public double leadPoints() {
            return 100.0 * (keptOnly - runnerUpOnly) / images;
        }

        /** Two standard errors of the paired difference in agreement, in points. */
        public double noisePoints() {
            double d = (double) (keptOnly - runnerUpOnly) / images;
            double variance = (double) (keptOnly + runnerUpOnly) / images - d * d;
            return 200 * Math.sqrt(Math.max(0, variance) / images);
        }

        /** Whether the lead is no larger than the noise: the choice between the two is a guess. */
        public boolean withinNoise() {
            return leadPoints() <= noisePoints();
        }

        /** "3.1 points more agreement than the next best (uniform 6 atoms): …; the noise is ±2.2 points …". */
        public String line() {
            String l = String.format(java.util.Locale.ROOT, "%.1f points more agreement than the next best (%s): "
                    + "%d of the %d images only it agrees on, %d only the other; the noise is ±%.1f points (two "
                    + "standard errors, paired)", leadPoints(), runnerUp, keptOnly, images, runnerUpOnly, noisePoints());
            return withinNoise() ? l + ", so this sample cannot tell the two apart (more --calibration-images can)"
                    : l + ", a lead beyond it";
        }
    }

    /**
     * The allocation: settings to compress with, each set's option with its weight error, the sets'
     * convolution counts and dense parameters, the target and the bytes the kept allocation writes, every
     * allocation tried (the kept one among them), the uniform count that fits, what the comparison ran
     * under, the original's top-1 on the calibration images (NaN: no labels) and the kept allocation's
     * lead over the next best (null: only one was tried).
     */
    public record Result(Settings settings, Map<String, AtomBudget.Option> choice, Map<String, Integer> convs,
                         Map<String, Long> denseParams, long targetBytes, long svdBytes, List<Tried> tried,
                         Tried kept, int uniformAtoms, long uniformBytes, String judgedBy, double referenceTop1,
                         Margin margin, java.util.Set<String> pointwiseSets) {
        public Result {
            tried = List.copyOf(tried);
            pointwiseSets = java.util.Set.copyOf(pointwiseSets);
        }

        /**
         * What each kind of conv got: "spatial kernels: 4 set(s), 9,321 of 148,032 dense params (6.3 %); 1x1 convs:
         * 3 set(s), 20,304 of 81,920 (24.8 %)" (a kind the model has no set of is left out).
         */
        public String kindLine() {
            List<String> parts = new ArrayList<>();
            for (boolean pw : new boolean[] {false, true}) {
                long kept = 0;
                long all = 0;
                int n = 0;
                for (Map.Entry<String, AtomBudget.Option> e : choice.entrySet()) {
                    if (pointwiseSets.contains(e.getKey()) == pw) {
                        n++;
                        long d = denseParams.get(e.getKey());
                        all += d;
                        kept += e.getValue().atoms() == Settings.DENSE ? d : e.getValue().params();
                    }
                }
                if (n > 0) {
                    parts.add(String.format(java.util.Locale.ROOT, "%s: %d set(s), %,d of %,d dense params (%.1f %%)",
                            pw ? "1x1 convs" : "spatial kernels", n, kept, all, 100.0 * kept / Math.max(1, all)));
                }
            }
            return "by kind: " + String.join("; ", parts);
        }

        /**
         * The kept allocation's predicted top-1 drop in points: the original's top-1 less its own on the
         * labelled calibration images, or, without labels, the share of images on which it disagrees with
         * the original (a bound: every image it loses is one it disagrees on).
         */
        public double predictedDrop() {
            return predictedDropIsBound() ? 100 * (1 - kept.agreement()) : 100 * (referenceTop1 - kept.top1());
        }

        /** Whether {@link #predictedDrop()} is the disagreement bound (no labels) rather than a top-1 difference. */
        public boolean predictedDropIsBound() {
            return Double.isNaN(referenceTop1) || Double.isNaN(kept.top1());
        }

        /** Whether the uniform count was kept. */
        public boolean keptUniform() {
            return kept.uniform();
        }

        /** One line per set (what it got and the weight error that bought), then one per allocation tried. */
        public List<String> planLines() {
            List<String> lines = new ArrayList<>();
            choice.forEach((set, o) -> lines.add(String.format(java.util.Locale.ROOT,
                    "%s: %s, %,d of %,d dense params, weight error %.3f (squared, relative, summed over %d conv(s))",
                    set, o.atoms() == Settings.DENSE ? "dense" : o.atoms() + " atoms", o.params(), denseParams.get(set),
                    Math.max(0, o.error()), convs.get(set))));
            lines.add(kindLine());
            for (Tried t : tried) {
                lines.add("tried " + t.line() + (t == kept ? " (kept)" : "") + "; by hand: " + byHand(t));
            }
            lines.add("by hand: " + byHand());
            return lines;
        }

        /** The kept allocation as options that make it without a plan: "--atoms 6" or "--set-atoms a=4,b=dense". */
        public String byHand() {
            return byHand(kept);
        }

        private String byHand(Tried t) {
            return t.uniform() ? "--atoms " + uniformAtoms : "--set-atoms " + Settings.formatSetAtoms(atoms(t.choice()));
        }

        /** The decision in one line. */
        public String summary() {
            return String.format(java.util.Locale.ROOT, "kept %s of %d allocation(s) tried (best top-1 agreement with "
                            + "the original on the calibration images, %s, KL on a tie): agreement %.1f %%, KL %.3f, "
                            + "%,d bytes%s", kept.label(), tried.size(), judgedBy, 100 * kept.agreement(), kept.kl(),
                    svdBytes, margin == null ? "" : "; " + margin.line());
        }
    }

    private SizeTarget() {
    }

    /**
     * Plans the allocation for {@code model} (not changed), whose file has {@code inputBytes}, at
     * {@code fraction} of that size; {@code candidates} are the uniform counts tried for the comparison.
     */
    public static Result plan(Model model, long inputBytes, double fraction, Settings settings, CalibrationImages images,
                              int[] candidates, Consumer<String> progress) {
        return plan(model, inputBytes, fraction, settings, images, candidates, null, null, progress);
    }

    /**
     * What the written file holds beyond the factors. A fine-tune after the fit: with {@code trainingBatchNorm}
     * its BNs, folded after shared kernels, become a per-channel scale and shift per conv, and {@code filterNorm}
     * (0: off) is the norm the filters are scaled to first (its values get other names); its {@code record}
     * goes into the model's metadata (null: none). {@code encoding}: the file's names and functions.
     */
    public record Written(boolean trainingBatchNorm, double filterNorm, String record, FileEncoding encoding) {
        public Written {
            if (encoding == null) {
                encoding = FileEncoding.PLAIN;
            }
        }

        /** No fine-tune, the file written with {@code encoding}. */
        public static Written encoded(FileEncoding encoding) {
            return new Written(false, 0, null, encoding);
        }

        /** A fine-tune's additions, names as read. */
        public Written(boolean trainingBatchNorm, double filterNorm, String record) {
            this(trainingBatchNorm, filterNorm, record, null);
        }
    }

    /**
     * As above; with {@code fineTune} (null: no fine-tune, names as read) the sizes are those the written model has, and with
     * {@code fit} (null: the SVD fit) the allocation and the uniform count are compared as that fit leaves
     * them — the fit the run uses, since an SVD-fit network at chance tells two allocations apart by nothing
     * but noise.
     */
    public static Result plan(Model model, long inputBytes, double fraction, Settings settings, CalibrationImages images,
                              int[] candidates, Written fineTune, Refinement fit, Consumer<String> progress) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new AcdcException("--target-size must be a fraction of the input's bytes in (0, 1], got " + fraction);
        }
        long target = (long) Math.floor(fraction * inputBytes);
        // with short names and functions the fine-tuned file can differ from the estimate by a few bytes (values
        // renamed after its BNs are folded, chains outlined differently): aim a quarter percent lower
        long aim = fineTune != null && fineTune.encoding().any() && fineTune.trainingBatchNorm()
                ? target - target / 400 : target;
        String fitId = fit == null ? null : fit.id();
        byte[] bytes = OnnxModels.toBytes(model);
        int[] counts = candidates.clone();
        java.util.Arrays.sort(counts);
        int uniform = counts[0];
        long uniformBytes = writtenBytes(bytes, settings.withAtoms(uniform), fineTune, fitId);
        for (int i = 1; i < counts.length; i++) {
            long b = writtenBytes(bytes, settings.withAtoms(counts[i]), fineTune, fitId);
            if (b > aim) {
                break;
            }
            uniform = counts[i];
            uniformBytes = b;
        }
        Settings base = settings.withAtoms(uniform);
        Sensitivity.Planned prepared = Sensitivity.Planned.of(bytes, base);
        Model planned = prepared.model();
        Plan p = prepared.plan();
        Map<String, List<AtomBudget.Option>> options = WeightCurves.of(p, planned.graph());
        Map<String, Integer> convs = new LinkedHashMap<>();
        Map<String, Long> dense = new LinkedHashMap<>();
        long denseParams = 0;
        for (SharingSet s : p.sets()) {
            convs.put(s.id(), s.members().size());
            dense.put(s.id(), s.denseParams());
            denseParams += s.denseParams();
        }
        progress.accept(String.format(java.util.Locale.ROOT, "size target: %,d bytes; weight-error curves of %d "
                + "set(s); uniform %d atoms writes %,d bytes", target, options.size(), uniform, uniformBytes));
        // everything but the decomposable kernels, as a first guess of what the budget does not cover
        long fixed = bytes.length - 4 * denseParams;
        Sizer sizer = new Sizer(bytes, base, fineTune, fitId, aim, progress);
        // the weight-error knapsack alone, and with a floor under every set: the one-step-smaller candidate
        // count than uniform, and uniform itself (which can only add atoms to uniform's allocation); and the
        // errors weighted by kernel size over the smaller floor, which moves atoms toward the wide convs
        int below = 0;
        for (int i = counts.length - 1; i >= 0; i--) {
            if (counts[i] < uniform) {
                below = counts[i];
                break;
            }
        }
        List<Candidate> allocations = new ArrayList<>();
        allocations.add(new Candidate(WeightCurves.Weighting.PER_CONV, 0));
        if (below > 0) {
            allocations.add(new Candidate(WeightCurves.Weighting.PER_CONV, below));
        }
        allocations.add(new Candidate(WeightCurves.Weighting.PER_CONV, uniform));
        allocations.add(new Candidate(WeightCurves.Weighting.PER_WEIGHT, below));
        Map<String, List<AtomBudget.Option>> perWeight = WeightCurves.of(p, planned.graph(),
                WeightCurves.Weighting.PER_WEIGHT);
        // the judge measures what the run will fit: with a training-BN fine-tune the run scales every
        // conv's filters first, which changes what the fit does with a set's shared coefficients (ResNet-56
        // stage: uniform 6 atoms agreed on 26.0 % of the images fitted raw, 19.1 % fitted as the run fits it)
        Sensitivity.Evaluator eval = new Sensitivity.Evaluator(asTheRunFits(model, fineTune), images, fit);
        String how = fit == null ? "SVD fit" : "output fit";
        List<Tried> tried = new ArrayList<>();
        List<Settings> scored = new ArrayList<>(); // what each tried allocation was compressed with
        java.util.Set<Map<String, Integer>> seen = new java.util.HashSet<>();
        Map<String, AtomBudget.Option> u = new LinkedHashMap<>();
        for (SharingSet s : p.sets()) {
            // --atoms sets spatial kernels only: under "uniform" a pointwise set keeps its default rank
            int m = s.pointwise() ? s.atoms() : Math.min(uniform, s.maxAtoms());
            u.put(s.id(), options.get(s.id()).stream().filter(o -> o.atoms() == m).findFirst()
                    .orElse(new AtomBudget.Option(m, AtomBudget.params(s, m), Double.NaN)));
        }
        boolean uniformFits = uniformBytes <= aim && uniformBytes >= aim * (1 - TOLERANCE_PCT / 100);
        String uniformLabel = "uniform " + uniform + " atoms";
        for (Candidate c : allocations) {
            Map<String, List<AtomBudget.Option>> curves = c.weighting() == WeightCurves.Weighting.PER_CONV ? options
                    : perWeight;
            Sizer.Fitted a = sizer.allocate(c.floor() == 0 ? curves : floored(curves, p, c.floor()), (aim - fixed) / 4);
            if (a == null || !seen.add(atoms(a.choice()))) {
                continue;
            }
            // the plan reports every set's per-conv weight error, whichever curves chose its count
            Map<String, AtomBudget.Option> choice = new LinkedHashMap<>();
            a.choice().forEach((set, o) -> choice.put(set, options.get(set).stream()
                    .filter(x -> x.atoms() == o.atoms()).findFirst().orElse(o)));
            boolean isUniform = atoms(choice).equals(atoms(u)); // no bytes left over above the floor
            String label = isUniform ? uniformLabel : c.label();
            progress.accept("size target: " + label + " (" + how + ")" + EVALUATING);
            Settings with = isUniform ? base : base.withSetAtoms(atoms(choice));
            double[] e = eval.error(with);
            tried.add(new Tried(label, c.floor(), isUniform, choice, a.bytes(), e[0], e[1], e[2]));
            scored.add(with);
        }
        if (uniformFits && seen.add(atoms(u))) {
            double[] e = eval.error(base);
            tried.add(new Tried(uniformLabel, uniform, true, u, uniformBytes, e[0], e[1], e[2]));
            scored.add(base);
        }
        if (tried.isEmpty()) {
            throw new AcdcException(String.format(java.util.Locale.ROOT, "--target-size %.3g: no allocation found "
                    + "writes at most the %,d bytes asked for", fraction, target));
        }
        // agreement first (top-1 is what it predicts), KL on a tie; uniform on a full tie, else the first
        Tried kept = tried.get(0);
        for (Tried t : tried) {
            int c = BETTER_FIRST.compare(t, kept);
            if (c < 0 || c == 0 && t.uniform()) {
                kept = t;
            }
        }
        Result r = new Result(kept.uniform() ? base : base.withSetAtoms(atoms(kept.choice())), kept.choice(), convs,
                dense, target, kept.bytes(), tried, kept, uniform, uniformBytes, how, eval.referenceTop1(),
                margin(tried, scored, kept, eval), p.sets().stream().filter(SharingSet::pointwise).map(SharingSet::id)
                .collect(java.util.stream.Collectors.toSet()));
        for (Tried t : tried) {
            progress.accept("size target: tried " + t.line());
        }
        // the summary is printed once, with the notes, by whoever reports the plan
        return r;
    }

    /** The kept allocation against the best of the others (by agreement, then KL), image by image; null: none. */
    private static Margin margin(List<Tried> tried, List<Settings> scored, Tried kept, Sensitivity.Evaluator eval) {
        int best = -1;
        int self = -1;
        for (int i = 0; i < tried.size(); i++) {
            Tried t = tried.get(i);
            self = t == kept ? i : self;
            if (t != kept && (best < 0 || BETTER_FIRST.compare(t, tried.get(best)) < 0)) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        boolean[] k = eval.agrees(scored.get(self));
        boolean[] o = eval.agrees(scored.get(best));
        int keptOnly = 0;
        int otherOnly = 0;
        for (int i = 0; i < k.length; i++) {
            keptOnly += k[i] && !o[i] ? 1 : 0;
            otherOnly += o[i] && !k[i] ? 1 : 0;
        }
        return new Margin(tried.get(best).label(), keptOnly, otherOnly, eval.images());
    }

    /** An allocation to try: the weight-error curves it is made from, and the least count per set (0: none). */
    private record Candidate(WeightCurves.Weighting weighting, int floor) {
        String label() {
            String l = weighting == WeightCurves.Weighting.PER_CONV ? "weight-error allocation"
                    : "weight-error allocation weighted by kernel size";
            return floor == 0 ? l : l + ", at least " + floor + " atoms per set";
        }
    }

    /** Each set's options with fewer than {@code floor} atoms (capped by its rank) left out; dense stays. */
    private static Map<String, List<AtomBudget.Option>> floored(Map<String, List<AtomBudget.Option>> options, Plan p,
                                                                int floor) {
        Map<String, List<AtomBudget.Option>> out = new LinkedHashMap<>();
        for (SharingSet s : p.sets()) {
            int f = Math.min(floor, s.maxAtoms());
            out.put(s.id(), options.get(s.id()).stream().filter(o -> o.atoms() == Settings.DENSE || o.atoms() >= f)
                    .toList());
        }
        return out;
    }

    /**
     * Finds, for a set of curves, the allocation whose written bytes come closest below the target: the
     * parameter budget is corrected by the bytes an SVD-fit compression actually writes (graph overhead,
     * shared tensors) until within {@value #TOLERANCE_PCT} % or no allocation changes.
     */
    private record Sizer(byte[] bytes, Settings base, Written fineTune, String fitId, long target,
                         Consumer<String> progress) {
        record Fitted(Map<String, AtomBudget.Option> choice, long bytes) {
        }

        /** The allocation, or null when none of these curves fits the target. */
        Fitted allocate(Map<String, List<AtomBudget.Option>> options, long budget) {
            Map<String, AtomBudget.Option> choice = null;
            Map<String, AtomBudget.Option> best = null;
            long bestWritten = 0;
            long written = 0;
            long nudge = 1;
            for (int round = 0; round < ROUNDS; round++) {
                Map<String, AtomBudget.Option> next;
                try {
                    next = AtomBudget.allocate(options, Math.max(0, budget));
                } catch (AcdcException e) {
                    if (best != null) {
                        break;
                    }
                    budget += Math.max(1, Math.abs(budget) / 8); // below these curves' least: raise it
                    continue;
                }
                if (next.equals(choice)) {
                    // the same allocation: move the budget further the way it has to go
                    nudge *= 2;
                    budget += written > target ? -nudge : nudge;
                    continue;
                }
                choice = next;
                if (choice.values().stream().allMatch(o -> o.atoms() == Settings.DENSE)) {
                    throw new AcdcException(String.format(java.util.Locale.ROOT, "--target-size leaves every sharing "
                            + "set dense: nothing to compress at %,d bytes (give a smaller fraction)", target));
                }
                written = writtenBytes(bytes, base.withSetAtoms(atoms(choice)), fineTune, fitId);
                progress.accept(String.format(java.util.Locale.ROOT, "size target: budget %,d params -> %,d bytes "
                        + "(target %,d)", budget, written, target));
                if (written <= target && (best == null || written > bestWritten)) {
                    best = choice;
                    bestWritten = written;
                }
                if (best != null && bestWritten >= target * (1 - TOLERANCE_PCT / 100)) {
                    break;
                }
                long step = (target - written) / 4;
                budget += step != 0 ? step : (written > target ? -1 : 1);
                nudge = 1;
            }
            return best == null ? null : new Fitted(best, bestWritten);
        }
    }

    private static Map<String, Integer> atoms(Map<String, AtomBudget.Option> choice) {
        Map<String, Integer> a = new LinkedHashMap<>();
        choice.forEach((k, v) -> a.put(k, v.atoms()));
        return a;
    }

    /**
     * {@code model} as the run hands it to the fit: a copy with every conv's filters scaled to the
     * fine-tune's norm (the function unchanged) when a training-BN fine-tune asks for it, else itself.
     */
    static Model asTheRunFits(Model model, Written fineTune) {
        if (fineTune == null || !fineTune.trainingBatchNorm() || !(fineTune.filterNorm() > 0)) {
            return model;
        }
        Model work = OnnxModels.fromBytes(OnnxModels.toBytes(model), null);
        PassManager.standard().run(work);
        new PassManager(List.of(new NormalizeFilters(fineTune.filterNorm()))).run(work);
        return work;
    }

    /**
     * The bytes of the file a run writes from {@code model} with {@code s}: compressed by SVD (the fit the run
     * uses changes the factors' values, not the file's layout; {@code fitId} its metadata name, null: SVD), with
     * what {@code fineTune} adds (null: nothing) and the file's encoding.
     */
    public static long writtenBytes(byte[] model, Settings s, Written fineTune, String fitId) {
        return OnnxModels.toBytes(written(model, s, fineTune, fitId)).length;
    }

    /** The model {@link #writtenBytes} measures. */
    public static Model written(byte[] model, Settings s, Written fineTune, String fitId) {
        Model work = asTheRunFits(OnnxModels.fromBytes(model, null), fineTune);
        Compressor.compress(work, s, x -> { });
        if (fitId != null) {
            // the fit that will run changes the factors' values, not the file's layout: only its name
            work.metadata().put("acdc.fit", fitId);
        }
        if (fineTune != null && fineTune.trainingBatchNorm()) {
            // the BNs a fine-tune puts in and folds away again: any statistics give the same structure
            Map<String, float[][]> stats = new LinkedHashMap<>();
            var facts = dev.acdc.ir.ShapeInference.infer(work);
            for (String v : dev.acdc.train.TrainingBatchNorm.convOutputs(work)) {
                long[] shape = facts.get(v).shape();
                int c = (int) shape[1];
                float[] ones = new float[c];
                java.util.Arrays.fill(ones, 1f);
                stats.put(v, new float[][] {new float[c], ones});
            }
            dev.acdc.train.TrainingBatchNorm.insert(work, stats);
            dev.acdc.train.Trainer.foldBatchNorm(work);
        }
        if (fineTune != null && fineTune.record() != null) {
            work.metadata().put(dev.acdc.train.Trainer.RECORD_KEY, fineTune.record());
        }
        if (fineTune != null) {
            fineTune.encoding().apply(work);
        }
        return work;
    }
}
