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
 * that minimise the predicted output error. The {@link Sensitivity} curves give each option's error,
 * {@link AtomBudget} the allocation for a parameter budget; the budget is then corrected by the bytes an
 * SVD-fit compression with that allocation actually writes (graph overhead, shared tensors) until the
 * written size is within {@value #TOLERANCE_PCT} % below the target, or no allocation changes.
 */
public final class SizeTarget {
    static final double TOLERANCE_PCT = 2;
    private static final int ROUNDS = 16;

    /** The allocation: settings to compress with, each set's option, the measured curves and sizes. */
    public record Result(Settings settings, Map<String, AtomBudget.Option> choice, List<Sensitivity.Curve> curves,
                         long targetBytes, long svdBytes, double predictedKl) {
        /** One line per set: what it got and why (its predicted error at that size). */
        public List<String> planLines() {
            List<String> lines = new ArrayList<>();
            for (Sensitivity.Curve c : curves) {
                AtomBudget.Option o = choice.get(c.set());
                Sensitivity.Point p = c.points().stream().filter(q -> q.atoms() == o.atoms()).findFirst().orElseThrow();
                lines.add(String.format(java.util.Locale.ROOT, "%s: %s, %,d of %,d dense params, predicted KL %.3f "
                                + "(agreement %.0f %% with only this set compressed)", c.set(),
                        o.atoms() == Settings.DENSE ? "dense" : o.atoms() + " atoms", o.params(), c.denseParams(),
                        p.kl(), 100 * p.agreement()));
            }
            return lines;
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
        List<Sensitivity.Curve> curves = Sensitivity.measure(model, settings, images, candidates, progress);
        Map<String, List<AtomBudget.Option>> options = new LinkedHashMap<>();
        long denseParams = 0;
        for (Sensitivity.Curve c : curves) {
            options.put(c.set(), c.options());
            denseParams += c.denseParams();
        }
        byte[] bytes = OnnxModels.toBytes(model);
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
            written = svdBytes(bytes, settings.withSetAtoms(atoms(choice)), trainingBatchNorm);
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
        choice = best;
        written = bestWritten;
        double kl = 0;
        for (AtomBudget.Option o : choice.values()) {
            kl += o.error();
        }
        return new Result(settings.withSetAtoms(atoms(choice)), choice, curves, target, written, kl);
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
