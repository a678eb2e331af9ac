package dev.acdc.runtime.calibration;

import dev.acdc.AcdcException;
import dev.acdc.decompose.AtomBudget;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code --target-size F}: per-set atom counts (or dense) for an output of at most F × the input's bytes
 * that minimise the output error. The plan starts from the <em>uniform</em> count that fits the target
 * best (the largest of the candidates whose SVD-fit file is within it), measures each set's
 * {@link Sensitivity} curve with every other set at that count (in context: the sets' errors compound,
 * and a set measured alone looks harmless where it is not), and {@link AtomBudget} allocates a parameter
 * budget over those curves; the budget is then corrected by the bytes an SVD-fit compression with that
 * allocation actually writes (graph overhead, shared tensors) until the written size is within
 * {@value #TOLERANCE_PCT} % below the target, or no allocation changes. Last, the allocation's own
 * network error is measured; when the uniform count meets the size as well and agrees with the original
 * on at least as many calibration images (KL on a tie), the uniform allocation is kept.
 */
public final class SizeTarget {
    static final double TOLERANCE_PCT = 2;
    private static final int ROUNDS = 16;

    /**
     * The allocation: settings to compress with, each set's option, the measured curves (each set's
     * points with the other sets at {@code uniformAtoms}), the sizes, the network KL of the allocation and
     * of the uniform count on the calibration images, and whether the uniform one was kept.
     */
    public record Result(Settings settings, Map<String, AtomBudget.Option> choice, List<Sensitivity.Curve> curves,
                         long targetBytes, long svdBytes, long allocationBytes, double kl, double agreement,
                         int uniformAtoms, long uniformBytes, double uniformKl, double uniformAgreement,
                         boolean keptUniform) {
        /** One line per set: what it got and why (the network's error with that set so, the others uniform). */
        public List<String> planLines() {
            List<String> lines = new ArrayList<>();
            for (Sensitivity.Curve c : curves) {
                AtomBudget.Option o = choice.get(c.set());
                Sensitivity.Point p = c.points().stream().filter(q -> q.atoms() == o.atoms()).findFirst().orElseThrow();
                lines.add(String.format(java.util.Locale.ROOT, "%s: %s, %,d of %,d dense params, KL %.3f "
                                + "(agreement %.0f %%) with this set so and the others at %d atoms", c.set(),
                        o.atoms() == Settings.DENSE ? "dense" : o.atoms() + " atoms", o.params(), c.denseParams(),
                        p.kl(), 100 * p.agreement(), uniformAtoms));
            }
            return lines;
        }

        /** The decision in one line. */
        public String summary() {
            return String.format(java.util.Locale.ROOT, "per-set atoms: agreement %.1f %%, KL %.3f on the calibration "
                            + "images, %,d bytes (SVD fit); uniform %d atoms: agreement %.1f %%, KL %.3f, %,d bytes; %s",
                    100 * agreement, kl, allocationBytes, uniformAtoms, 100 * uniformAgreement, uniformKl, uniformBytes,
                    keptUniform ? "kept uniform (the per-set allocation was no better)" : "kept the per-set atoms");
        }
    }

    private SizeTarget() {
    }

    /**
     * Plans the allocation for {@code model} (not changed), whose file has {@code inputBytes}, at
     * {@code fraction} of that size.
     */
    public static Result plan(Model model, long inputBytes, double fraction, Settings settings, CalibrationImages images,
                              int[] candidates, Consumer<String> progress) {
        return plan(model, inputBytes, fraction, settings, images, candidates, false, progress);
    }

    /**
     * As above; with {@code trainingBatchNorm} the sizes are those a fine-tune with training-mode BN
     * writes (its BNs, folded after shared kernels, become a per-channel scale and shift per conv).
     */
    public static Result plan(Model model, long inputBytes, double fraction, Settings settings, CalibrationImages images,
                              int[] candidates, boolean trainingBatchNorm, Consumer<String> progress) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new AcdcException("--target-size must be a fraction of the input's bytes in (0, 1], got " + fraction);
        }
        long target = (long) Math.floor(fraction * inputBytes);
        // a fine-tune also writes its record into the metadata (acdc.finetuned, under 1 KiB): leave room
        long aim = trainingBatchNorm ? target - 1024 : target;
        byte[] bytes = OnnxModels.toBytes(model);
        int[] counts = candidates.clone();
        java.util.Arrays.sort(counts);
        int uniform = counts[0];
        long uniformBytes = svdBytes(bytes, settings.withAtoms(uniform), trainingBatchNorm);
        for (int i = 1; i < counts.length; i++) {
            long b = svdBytes(bytes, settings.withAtoms(counts[i]), trainingBatchNorm);
            if (b > aim) {
                break;
            }
            uniform = counts[i];
            uniformBytes = b;
        }
        Settings base = settings.withAtoms(uniform);
        progress.accept(String.format(java.util.Locale.ROOT, "size target: uniform %d atoms writes %,d bytes "
                + "(target %,d); each set measured with the others at %d", uniform, uniformBytes, target, uniform));
        Sensitivity.Evaluator eval = new Sensitivity.Evaluator(model, images);
        List<Sensitivity.Curve> curves = Sensitivity.measure(eval, base, candidates, true, progress);
        Map<String, List<AtomBudget.Option>> options = new LinkedHashMap<>();
        long denseParams = 0;
        for (Sensitivity.Curve c : curves) {
            options.put(c.set(), monotone(c.options()));
            denseParams += c.denseParams();
        }
        // everything but the decomposable kernels, as a first guess of what the budget does not cover
        long fixed = bytes.length - 4 * denseParams;
        long budget = (aim - fixed) / 4;
        Map<String, AtomBudget.Option> choice = null;
        Map<String, AtomBudget.Option> best = null;
        long bestWritten = 0;
        long written = 0;
        long nudge = 1;
        for (int round = 0; round < ROUNDS; round++) {
            Map<String, AtomBudget.Option> next = AtomBudget.allocate(options, Math.max(0, budget));
            if (next.equals(choice)) {
                // the same allocation: move the budget further the way it has to go
                nudge *= 2;
                budget += written > aim ? -nudge : nudge;
                continue;
            }
            choice = next;
            if (choice.values().stream().allMatch(o -> o.atoms() == Settings.DENSE)) {
                throw new AcdcException(String.format(java.util.Locale.ROOT, "--target-size %.3g leaves every sharing "
                        + "set dense: nothing to compress at that size (give a smaller fraction)", fraction));
            }
            written = svdBytes(bytes, base.withSetAtoms(atoms(choice)), trainingBatchNorm);
            progress.accept(String.format(java.util.Locale.ROOT, "size target: budget %,d params -> %,d bytes "
                    + "(target %,d)", budget, written, target));
            if (written <= aim && (best == null || written > bestWritten)) {
                best = choice;
                bestWritten = written;
            }
            if (best != null && bestWritten >= aim * (1 - TOLERANCE_PCT / 100)) {
                break;
            }
            long step = (aim - written) / 4;
            budget += step != 0 ? step : (written > aim ? -1 : 1);
            nudge = 1;
        }
        if (best == null) {
            throw new AcdcException(String.format(java.util.Locale.ROOT, "--target-size %.3g: the smallest allocation "
                    + "found writes %,d bytes, more than the %,d asked for", fraction, written, target));
        }
        Map<String, AtomBudget.Option> uniformChoice = new LinkedHashMap<>();
        for (Sensitivity.Curve c : curves) {
            int m = Math.min(uniform, c.points().stream().mapToInt(Sensitivity.Point::atoms).max().orElse(uniform));
            uniformChoice.put(c.set(), c.options().stream().filter(o -> o.atoms() == m).findFirst()
                    .orElse(c.options().get(0)));
        }
        double[] e = eval.error(base.withSetAtoms(atoms(best)));
        double[] u = eval.error(base.withSetAtoms(atoms(uniformChoice)));
        // agreement first (top-1 is what it predicts), KL on a tie
        boolean uniformBetter = u[0] > e[0] || (u[0] == e[0] && u[1] <= e[1]);
        boolean keepUniform = uniformBytes <= aim && uniformBytes >= aim * (1 - TOLERANCE_PCT / 100) && uniformBetter;
        Map<String, AtomBudget.Option> kept = keepUniform ? uniformChoice : best;
        Result r = new Result(base.withSetAtoms(atoms(kept)), kept, curves, target,
                keepUniform ? uniformBytes : bestWritten, bestWritten, e[1], e[0], uniform, uniformBytes, u[1], u[0],
                keepUniform);
        progress.accept("size target: " + r.summary());
        return r;
    }

    /**
     * The options with each error replaced by the least error of any option no larger: more atoms cannot
     * fit worse than fewer (the SVD fit of m+1 atoms contains that of m), so a rise is measurement noise,
     * which a saturated network output has plenty of; of options the curve then rates equal, the larger
     * is preferred by a tiny margin, so the budget is spent rather than left over.
     */
    static List<AtomBudget.Option> monotone(List<AtomBudget.Option> options) {
        List<AtomBudget.Option> byParams = new ArrayList<>(options);
        byParams.sort(java.util.Comparator.comparingLong(AtomBudget.Option::params));
        long most = byParams.get(byParams.size() - 1).params();
        List<AtomBudget.Option> out = new ArrayList<>();
        double least = Double.POSITIVE_INFINITY;
        for (AtomBudget.Option o : byParams) {
            least = Math.min(least, o.error());
            double tie = 1e-9 * (1 + Math.abs(least)) * o.params() / Math.max(1, most);
            out.add(new AtomBudget.Option(o.atoms(), o.params(), least - tie));
        }
        return out;
    }

    private static Map<String, Integer> atoms(Map<String, AtomBudget.Option> choice) {
        Map<String, Integer> a = new LinkedHashMap<>();
        choice.forEach((k, v) -> a.put(k, v.atoms()));
        return a;
    }

    private static long svdBytes(byte[] model, Settings s, boolean trainingBatchNorm) {
        Model work = OnnxModels.fromBytes(model, null);
        Compressor.compress(work, s, x -> { });
        if (trainingBatchNorm) {
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
        return OnnxModels.toBytes(work).length;
    }
}
