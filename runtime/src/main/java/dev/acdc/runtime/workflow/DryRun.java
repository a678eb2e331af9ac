package dev.acdc.runtime.workflow;

import dev.acdc.decompose.FileEncoding;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.quantize.Quantizer;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.SizeTarget;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.runtime.recovery.BlockRecovery;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@link CompressionJob#run} would do with a request, before it does it: the stages that would run,
 * how long each would take on this machine, and the bytes of the file it would write. Nothing is written.
 * The size is exact where the fit's values cannot change it (the layout of the written file depends on
 * the plan, the fine-tune's folded normalisation and the encoding, not on the fitted numbers): the request
 * is compressed by SVD and encoded as the run would. Times are measured where a few steps show them (the
 * SVD fit itself, ONNX Runtime's forward rate on the model, fine-tuning steps) and estimated from those
 * where the stage is too long to sample (the output fit, block recovery), and each line says which.
 */
public final class DryRun {
    /**
     * The output fit's time per image and decomposed conv, in forward passes of the original (measured since
     * the passes start from cut points: ResNet-20 on 512 images 3.2, ResNet-50 at 224 on 256 images 1.45;
     * before that ResNet-20 4.7, ResNet-56 2.9).
     */
    static final double OUTPUT_FIT_FORWARDS_PER_CONV = 2;
    /** The allocations a size plan compresses and compares, about ({@code SizeTarget.plan}). */
    static final int SIZE_PLAN_ALLOCATIONS = 6;
    /** Fine-tuning steps timed after {@link #WARMUP_STEPS} untimed ones. */
    static final int TIMED_STEPS = 3;
    static final int WARMUP_STEPS = 2;

    /** One stage: what it does, its time in seconds (NaN: not estimated), and how that time was found. */
    public record Step(String stage, String what, double seconds, String how) {
    }

    /**
     * The plan: the input's bytes, the written file's bytes ({@code exact}: equal to what the run writes;
     * else a bound, said in {@code sizeNote}), and the stages in order.
     */
    public record Plan(long inputBytes, long outputBytes, boolean exact, String sizeNote, List<Step> steps) {
        public double totalSeconds() {
            return steps.stream().mapToDouble(s -> Double.isNaN(s.seconds()) ? 0 : s.seconds()).sum();
        }

        /** The plan as console lines. */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            for (Step s : steps) {
                out.add(String.format(Locale.ROOT, "  %-14s %-9s %s (%s)", s.stage(), time(s.seconds()), s.what(),
                        s.how()));
            }
            out.add(String.format(Locale.ROOT, "  %-14s %-9s %,d bytes, %.1f %% of the input's %,d%s", "output",
                    "", outputBytes, 100.0 * outputBytes / inputBytes, inputBytes,
                    exact ? " (exact: the run writes this layout)" : " (" + sizeNote + ")"));
            out.add(String.format(Locale.ROOT, "  %-14s %s", "total", "about " + time(totalSeconds())));
            return out;
        }

        static String time(double s) {
            if (Double.isNaN(s)) {
                return "?";
            }
            if (s < 90) {
                return String.format(Locale.ROOT, "%.0f s", Math.max(1, s));
            }
            if (s < 5400) {
                return String.format(Locale.ROOT, "%.0f min", s / 60);
            }
            return String.format(Locale.ROOT, "%.1f h", s / 3600);
        }
    }

    private DryRun() {
    }

    /** Whether block recovery, estimated at {@code seconds}, is over its budget (and so skipped when the run comes to it). */
    private static boolean overBudget(BlockRecovery.Options o, double seconds) {
        return o.budgetMinutes() > 0 && seconds > o.budgetMinutes() * 60;
    }

    /** Plans {@code r}; the caller opened (and closes) its data sets. Writes nothing. */
    public static Plan of(CompressionJob.Request r, JobListener listener) {
        long t0 = System.nanoTime();
        byte[] originalBytes = OutputFiles.readAll(r.model());
        Model m = OnnxModels.load(r.model());
        Quantizer.requireFloat(m, "compress");
        if (r.fineTune() != null) {
            FineTuneJob.requireTrainable(m, "fine-tuning (--train-data)");
        }
        PassThrough.prepare(m, originalBytes, r.load().inputShape(), listener);
        ModelSummary before = ModelSummary.of(m, r.load().inputShape(), originalBytes.length);
        byte[] prepared = OnnxModels.toBytes(m);
        double load = (System.nanoTime() - t0) / 1e9;
        List<Step> steps = new ArrayList<>();

        boolean trainingBn = r.fineTune() != null && r.fineTune().options().trainingBatchNorm();
        FileEncoding encoding = r.encode().quantize() != null ? FileEncoding.PLAIN : r.encode().encoding();
        SizeTarget.Written written = r.fineTune() == null ? SizeTarget.Written.encoded(encoding)
                : new SizeTarget.Written(trainingBn, r.fit().filterNorm(), FineTuneJob.recordBound(r.fineTune()), encoding);
        boolean outputFit = r.fit().mode() == FitOptions.Mode.OUTPUT;
        listener.note("dry run: compressing by SVD to measure the file and the fit");
        long t1 = System.nanoTime();
        Model svd = SizeTarget.written(prepared, r.plan().settings(), written, outputFit ? "output" : null);
        double svdSeconds = (System.nanoTime() - t1) / 1e9;
        int decomposed = Integer.parseInt(svd.metadata().getOrDefault("acdc.decomposed_convs", "0"));
        int sets = Integer.parseInt(svd.metadata().getOrDefault("acdc.sets", "0"));
        steps.add(new Step("load, plan", String.format(Locale.ROOT, "%d of %d convs decomposed in %d sharing set(s), "
                + "--share %s", decomposed, before.convs().size(), sets, r.plan().settings().share().id()), load, "measured"));

        int calImages = r.calibration() == null ? 0 : Math.min(r.calibration().images(), r.calibration().data().size());
        double forward = calImages > 0 || r.evaluation() != null || r.calibration() != null
                ? secondsPerImage(originalBytes, m, before, listener) : Double.NaN;
        // the run's fit, estimated once: the fit step's time and, for a size plan, each allocation's
        double fitSeconds = outputFit ? svdSeconds + OUTPUT_FIT_FORWARDS_PER_CONV * decomposed * calImages * forward
                : svdSeconds;
        if (r.plan().searches()) {
            int plans = r.plan().targetDrop() != null ? 8 : 1;
            double each = SIZE_PLAN_ALLOCATIONS * (fitSeconds + calImages * forward);
            steps.add(new Step("size plan", (r.plan().targetDrop() != null ? "up to 8 sizes searched for --target-drop, each "
                    : "--target-size: ") + "about " + SIZE_PLAN_ALLOCATIONS + " allocations compressed with the "
                    + (outputFit ? "output" : "SVD") + " fit and compared on " + calImages + " images",
                    plans * each, "estimated from the " + (outputFit ? "output fit's forward passes" : "SVD fit")
                    + " and the forward rate measured now"));
        }
        int sensitivity = r.calibration() == null || !MethodStages.has(r.plan().settings().method(), SensitivityStage.class)
                ? 0 : r.plan().sensitivitySample(before.macs(), before.convs().size());
        if (sensitivity > 0) {
            int n = Math.min(sensitivity, calImages);
            int points = sets * 6;
            steps.add(new Step("sensitivity", points + " points (each set at 6 atom counts) on " + n + " images",
                    points * (n * forward + svdSeconds / Math.max(1, sets)),
                    "estimated from the forward rate measured now"));
        }
        if (outputFit) {
            steps.add(new Step("fit", "output fit of " + decomposed + " convs on " + calImages + " calibration images",
                    fitSeconds,
                    "estimated: about " + (int) OUTPUT_FIT_FORWARDS_PER_CONV + " forward passes per conv at the rate "
                            + "measured now"));
        } else {
            steps.add(new Step("fit", "truncated SVD", svdSeconds, "measured"));
        }
        if (r.recovery() != null && calImages > 0) {
            double s = BlockRecovery.estimateSeconds(before.macs(), calImages, r.recovery());
            String how = "estimated from the network's " + String.format(Locale.ROOT, "%.3g", (double) before.macs())
                    + " MACs";
            steps.add(overBudget(r.recovery(), s)
                    ? new Step("recovery", "block recovery skipped: ~" + Plan.time(s) + " on " + calImages
                    + " images, over its budget of " + Plan.time(r.recovery().budgetMinutes() * 60), 0, how)
                    : new Step("recovery", "block recovery (" + r.recovery().spec() + ") on " + calImages + " images",
                    s, how + "; skipped at run time if over its budget"));
        }
        if (r.fineTune() != null) {
            FineTuneJob.Settings f = r.fineTune();
            int trainImages = FineTuneJob.split(f.train(), f.selectSplit(), f.splitSeed()).train().size();
            int epochs = f.options().maxSteps() > 0 ? 1 : f.options().epochs();
            listener.note("dry run: timing " + (WARMUP_STEPS + TIMED_STEPS) + " fine-tuning steps of batch "
                    + f.options().batch());
            // the model as the fine-tune receives it: fitted, before its training BNs are put in
            byte[] student = OnnxModels.toBytes(SizeTarget.written(prepared, r.plan().settings(), null, null));
            double ips = TrainBench.imagesPerSecond(student, originalBytes,
                    f.options().batch(), TIMED_STEPS, WARMUP_STEPS, trainingBn);
            long stepsTotal = f.options().maxSteps() > 0 ? f.options().maxSteps()
                    : (long) f.options().epochs() * ((trainImages + f.options().batch() - 1) / f.options().batch());
            double evalPerEpoch = f.eval() == null ? 0 : f.eval().size() * forward;
            steps.add(new Step("fine-tune", String.format(Locale.ROOT, "%s, %,d steps of %d images at %.0f images/s",
                    f.options().maxSteps() > 0 ? "--max-steps " + f.options().maxSteps()
                            : epochs + " epoch(s) of " + String.format(Locale.ROOT, "%,d", trainImages) + " images",
                    stepsTotal, f.options().batch(), ips),
                    stepsTotal * f.options().batch() / ips + epochs * evalPerEpoch,
                    "measured on " + TIMED_STEPS + " steps"));
        }
        long bytes;
        boolean exact = true;
        String sizeNote = null;
        if (r.encode().quantize() != null) {
            CalibrationImages few = r.encode().quantize().mode() == Quantizer.Mode.STATIC && r.calibration() != null
                    ? CalibrationImages.sample(r.calibration().data(), r.calibration().pre(),
                    Math.min(8, r.calibration().data().size()), r.calibration().seed()) : null;
            long tq = System.nanoTime();
            bytes = OnnxModels.toBytes(Quantization.run(svd, r.encode().quantize(), few, x -> { }).model()).length;
            steps.add(new Step("int8", r.encode().quantize().mode().id(), (System.nanoTime() - tq) / 1e9
                    + (few == null ? 0 : calImages * forward), "measured on 8 images"));
        } else {
            bytes = OnnxModels.toBytes(svd).length;
        }
        if (r.fineTune() != null) {
            exact = false;
            sizeNote = "about: within 0.2 %, as the fine-tune's record and the names of its folded normalisation vary";
        }
        if (r.plan().targetSize() != null || r.plan().targetDrop() != null) {
            exact = false;
            bytes = (long) Math.floor((r.plan().targetSize() != null ? r.plan().targetSize() : 0.8) * originalBytes.length);
            sizeNote = r.plan().targetSize() != null ? "at most, by --target-size; the plan chooses the allocation"
                    : "at most; --target-drop searches the smallest size whose predicted drop fits";
        }
        if (r.evaluation() != null) {
            int n = r.evaluation().data().size();
            steps.add(new Step("validate", String.format(Locale.ROOT, "both models on %,d images", n),
                    2 * n * forward, "the forward rate measured now"));
        }
        return new Plan(originalBytes.length, bytes, exact, sizeNote, steps);
    }

    /**
     * The stages {@code r} will go through, as one line for the start of a run ("stages: output fit on 512
     * images (~30 s) -> ... -> write"), with the times of those that run the model over images estimated
     * from ONNX Runtime's forward rate on it, measured now (a second or two), and block recovery's from the
     * network's MACs; a fine-tune's time left is shown by its progress lines, and {@code --dry-run} times
     * its steps before anything runs.
     */
    public static String outline(CompressionJob.Request r, byte[] original, Model m, ModelSummary before,
                                 JobListener listener) {
        List<String> s = new ArrayList<>();
        int cal = r.calibration() == null ? 0 : Math.min(r.calibration().images(), r.calibration().data().size());
        double forward = cal > 0 || r.evaluation() != null ? secondsPerImage(original, m, before, listener)
                : Double.NaN;
        // a size plan compresses about SIZE_PLAN_ALLOCATIONS allocations with the run's fit (the SVD fit's own time
        // is not measured here: left out); a drop target up to 8 such plans
        boolean outputFit = r.fit().mode() == FitOptions.Mode.OUTPUT;
        double plan = SIZE_PLAN_ALLOCATIONS * cal * forward
                * (1 + (outputFit ? OUTPUT_FIT_FORWARDS_PER_CONV * before.convs().size() : 0));
        if (r.plan().targetDrop() != null) {
            s.add("size search for --target-drop " + r.plan().targetDrop() + " (up to ~" + Plan.time(8 * plan) + ")");
        } else if (r.plan().targetSize() != null) {
            s.add("size plan for --target-size " + r.plan().targetSize() + " (~" + Plan.time(plan) + ")");
        }
        int sensitivity = r.calibration() == null || !MethodStages.has(r.plan().settings().method(), SensitivityStage.class)
                ? 0 : r.plan().sensitivitySample(before.macs(), before.convs().size());
        if (sensitivity > 0) {
            int n = Math.min(cal, sensitivity);
            s.add("sensitivity on " + n + " images (~" + Plan.time(6.0 * before.convs().size() * n * forward) + ")");
        }
        s.add(r.fit().mode() == FitOptions.Mode.OUTPUT ? "output fit on " + cal + " images (~"
                + Plan.time(OUTPUT_FIT_FORWARDS_PER_CONV * before.convs().size() * cal * forward) + ")" : "SVD fit");
        if (r.recovery() != null && cal > 0) {
            double est = BlockRecovery.estimateSeconds(before.macs(), cal, r.recovery());
            s.add(overBudget(r.recovery(), est) ? "block recovery skipped (~" + Plan.time(est) + ", over its budget of "
                    + Plan.time(r.recovery().budgetMinutes() * 60) + ")" : "block recovery (~" + Plan.time(est) + ")");
        }
        if (r.fineTune() != null) {
            FineTuneJob.Settings f = r.fineTune();
            s.add((f.options().maxSteps() > 0 ? "fine-tune for " + f.options().maxSteps() + " steps"
                    : String.format(Locale.ROOT, "fine-tune %d epoch(s) of %,d images", f.options().epochs(),
                    f.train().size())) + " (timed on its first steps, then by its progress line)");
        }
        if (r.encode().quantize() != null) {
            s.add(r.encode().quantize().mode().id());
        }
        if (r.evaluation() != null) {
            int n = r.evaluation().data().size();
            s.add(String.format(Locale.ROOT, "validate on %,d images (~%s)", n, Plan.time(2 * n * forward)));
        }
        s.add("write");
        return "stages: " + String.join(" -> ", s) + (Double.isNaN(forward) ? ""
                : " (~: estimated from ONNX Runtime's rate on this model, measured now; --dry-run for the whole plan)");
    }

    /** ONNX Runtime's seconds per image of the original, median of 3 timed batches after one untimed. */
    private static double secondsPerImage(byte[] original, Model m, ModelSummary before, JobListener listener) {
        long[] shape = Probe.shape(m, before.inputShape()).clone();
        long[] declared = m.graph().dataInputs().isEmpty() ? null : m.graph().dataInputs().get(0).shape();
        int batch = declared != null && declared.length > 0 && declared[0] > 0 ? (int) declared[0] : 16;
        shape[0] = batch;
        float[] x = Probe.randomInput(shape, 7);
        double[] t = new double[3];
        try (Sessions.Opened s = Sessions.open(original, Sessions.Config.cpu(), listener::note)) {
            Probe.run(s.session(), x, shape);
            for (int i = 0; i < t.length; i++) {
                long a = System.nanoTime();
                Probe.run(s.session(), x, shape);
                t[i] = (System.nanoTime() - a) / 1e9 / batch;
            }
        }
        Arrays.sort(t);
        return t[1];
    }
}
