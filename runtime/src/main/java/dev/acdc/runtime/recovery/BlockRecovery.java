package dev.acdc.runtime.recovery;

import dev.acdc.AcdcException;
import dev.acdc.analysis.Segments;
import dev.acdc.decompose.WeightRoles;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.calibration.ActivationModels;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.train.SegmentTrainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Block recovery: the stage between the fit and the end-to-end fine-tune. The compressed model is cut
 * into segments at values through which all data flow ({@link Segments}); each segment holding
 * decomposed convs is trained to reproduce the original's output of the same segment on calibration
 * images (feature mimicking, no labels). Its inputs are the original's activations
 * ({@link Mode#ORIGINAL}: segments independent) or the already-recovered compressed prefix's
 * ({@link Mode#SEQUENTIAL}: each segment also learns to undo the error it is handed). A factor read by
 * convs of several segments (coefficients shared across blocks or stages) is left as fitted, so that no
 * segment undoes another's recovery; per-segment atoms, coefficients and dense weights train.
 * <p>
 * Activations are computed by ONNX Runtime once per segment (the original's, and in sequential mode the
 * compressed prefix's), held in memory within {@link Options#memoryCapValues()} floats: a segment whose
 * activations would not fit uses fewer images, and says so.
 */
public final class BlockRecovery {
    /** Where a segment's inputs come from. */
    public enum Mode {
        ORIGINAL, SEQUENTIAL, GRAFT;

        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "original" -> ORIGINAL;
                case "sequential" -> SEQUENTIAL;
                case "graft" -> GRAFT;
                default -> throw new AcdcException("recovery mode must be sequential, original or graft, got '" + s + "'");
            };
        }
    }

    /**
     * The stage's options: input mode, passes over the images per segment, batch, Adam's peak rate, one
     * image in {@code holdoutEvery} held out to judge each segment, and the floats of activations held;
     * {@code checkpoint} (null: none; not a setting of the recipe) keeps finished segments for a resume.
     */
    public record Options(Mode mode, int epochs, int batch, double lr, int holdoutEvery, long memoryCapValues, boolean tail,
                          double budgetMinutes, RecoveryCheckpoint checkpoint) {
        /** Without a checkpoint. */
        public Options(Mode mode, int epochs, int batch, double lr, int holdoutEvery, long memoryCapValues, boolean tail,
                       double budgetMinutes) {
            this(mode, epochs, batch, lr, holdoutEvery, memoryCapValues, tail, budgetMinutes, null);
        }

        public static Options defaults() {
            return new Options(Mode.SEQUENTIAL, 20, 32, 1e-2, 8, 1L << 27, true, 0);
        }

        public Options {
            if (mode == null || epochs < 0 || batch < 1 || !(lr > 0) || holdoutEvery < 2 || memoryCapValues < 1
                    || !(budgetMinutes >= 0)) {
                throw new AcdcException("--recovery: epochs must be 0 or more, batch 1 or more, lr a positive "
                        + "number, holdout 2 or more and budget 0 or more minutes");
            }
        }

        /**
         * "off" (null), "on" (the defaults) or comma-separated {@code key=value} settings over the defaults:
         * mode=original|sequential, epochs=N, batch=N, lr=R, holdout=N (one image in N held out).
         */
        public static Options parse(String spec) {
            String s = spec.trim().toLowerCase(Locale.ROOT);
            if (s.equals("off") || s.equals("none")) {
                return null;
            }
            Options o = defaults();
            if (s.equals("on") || s.equals("default")) {
                return o;
            }
            if (s.equals("auto")) {
                return o.withBudget(AUTO_BUDGET_MINUTES);
            }
            for (String kv : s.split(",")) {
                int eq = kv.indexOf('=');
                if (eq < 0) {
                    throw new AcdcException("--recovery takes off, on or key=value pairs (mode, epochs, batch, lr, "
                            + "holdout, tail), got '" + kv + "'");
                }
                String k = kv.substring(0, eq).trim();
                String v = kv.substring(eq + 1).trim();
                try {
                    o = switch (k) {
                        case "mode" -> o.withMode(Mode.parse(v));
                        case "epochs" -> o.withEpochs(Integer.parseInt(v));
                        case "batch" -> new Options(o.mode, o.epochs, Integer.parseInt(v), o.lr, o.holdoutEvery,
                                o.memoryCapValues, o.tail, o.budgetMinutes);
                        case "lr" -> o.withLr(Double.parseDouble(v));
                        case "tail" -> new Options(o.mode, o.epochs, o.batch, o.lr, o.holdoutEvery, o.memoryCapValues,
                                parseOnOff(v), o.budgetMinutes);
                        case "budget" -> new Options(o.mode, o.epochs, o.batch, o.lr, o.holdoutEvery, o.memoryCapValues,
                                o.tail, Double.parseDouble(v));
                        case "holdout" -> new Options(o.mode, o.epochs, o.batch, o.lr, Integer.parseInt(v),
                                o.memoryCapValues, o.tail, o.budgetMinutes);
                        default -> throw new AcdcException("--recovery: unknown key '" + k
                                + "' (keys: mode, epochs, batch, lr, holdout, tail, budget)");
                    };
                } catch (NumberFormatException e) {
                    throw new AcdcException("--recovery: " + k + " must be a number, got '" + v + "'");
                }
            }
            return o;
        }

        private static boolean parseOnOff(String v) {
            return switch (v) {
                case "on", "true" -> true;
                case "off", "false" -> false;
                default -> throw new AcdcException("--recovery: tail must be on or off, got '" + v + "'");
            };
        }

        /** The settings as {@link #parse} reads them. */
        public String spec() {
            return "mode=" + mode.name().toLowerCase(Locale.ROOT) + ",epochs=" + epochs + ",batch=" + batch + ",lr=" + lr
                    + ",holdout=" + holdoutEvery + ",tail=" + (tail ? "on" : "off")
                    + (budgetMinutes > 0 ? ",budget=" + budgetMinutes : "");
        }

        /** Skips the stage (saying so) when its estimated time is over {@code minutes} (0: never). */
        public Options withBudget(double minutes) {
            return new Options(mode, epochs, batch, lr, holdoutEvery, memoryCapValues, tail, minutes, checkpoint);
        }

        public Options withMode(Mode m) {
            return new Options(m, epochs, batch, lr, holdoutEvery, memoryCapValues, tail, budgetMinutes, checkpoint);
        }

        public Options withEpochs(int e) {
            return new Options(mode, e, batch, lr, holdoutEvery, memoryCapValues, tail, budgetMinutes, checkpoint);
        }

        public Options withLr(double r) {
            return new Options(mode, epochs, batch, r, holdoutEvery, memoryCapValues, tail, budgetMinutes, checkpoint);
        }

        /** Keeps finished segments in {@code c} (null: nowhere) and resumes from it where it says so. */
        public Options withCheckpoint(RecoveryCheckpoint c) {
            return new Options(mode, epochs, batch, lr, holdoutEvery, memoryCapValues, tail, budgetMinutes, c);
        }
    }

    /** One segment's outcome: its ends, convs, images used, held-out relative error before and after. */
    public record SegmentResult(String input, String output, int convs, int images, SegmentTrainer.Result fit,
                                List<String> frozen) {
        public String line() {
            return String.format(Locale.ROOT, "%s -> %s: %d conv(s), %d images, held-out error %.4f -> %.4f%s (%.1f s)",
                    input, output, convs, images, fit.before(), fit.after(),
                    fit.kept() ? "" : " (not lowered: kept as fitted)", fit.seconds());
        }
    }

    /**
     * The stage's outcome; {@code skipped} (null when it ran and was kept) says why it did not run or was
     * undone (the model then is as fitted). Agreements: top-1
     * agreement with the original on the calibration images before and after, all of them and the
     * held-out ones (no segment trained on those), and the distillation loss on the held-out ones, which the
     * guard judges by; NaN when skipped or the output is not one tensor.
     */
    public record Result(Options options, List<SegmentResult> segments, double seconds, String skipped,
                         double agreementBefore, double agreementAfter, double heldOutBefore, double heldOutAfter,
                         double heldOutLossBefore, double heldOutLossAfter) {
        /** The report's section. */
        public dev.acdc.report.RecoverySection section() {
            List<dev.acdc.report.RecoverySection.Segment> rows = new ArrayList<>();
            for (SegmentResult s : segments) {
                rows.add(new dev.acdc.report.RecoverySection.Segment(s.input(), s.output(), s.convs(), s.images(),
                        s.fit().before(), s.fit().after(), s.fit().kept(), s.fit().seconds()));
            }
            return new dev.acdc.report.RecoverySection(options.spec(), options.holdoutEvery(),
                    4 * options.memoryCapValues(), rows, agreementBefore,
                    agreementAfter, heldOutBefore, heldOutAfter, heldOutLossBefore, heldOutLossAfter, skipped, seconds);
        }

        /** One line for the console. */
        public String agreementLine() {
            return String.format(Locale.ROOT, "block recovery: top-1 agreement with the original on the calibration "
                    + "images %.1f %% -> %.1f %% (on the 1 in %d held out, which no segment trained on: %.1f %% -> "
                    + "%.1f %%, distillation loss %.4f -> %.4f)", 100 * agreementBefore, 100 * agreementAfter,
                    options.holdoutEvery(), 100 * heldOutBefore, 100 * heldOutAfter, heldOutLossBefore, heldOutLossAfter);
        }
    }

    /** The default budget: by default the stage runs where it takes at most this long (estimated). */
    public static final double AUTO_BUDGET_MINUTES = 10;

    /**
     * Multiply-accumulates per second one recovery step sustains, forward and backward, on the 2-core
     * machine the figures were measured on (ResNet-20 layer: 41 M MACs, 448 images, 20 passes in 189 s
     * including the ONNX Runtime activations, i.e. 5.8 G/s); a conservative round figure.
     */
    static final double MACS_PER_SECOND = 5e9;

    /** Estimated seconds of the stage: every image through the whole network, forward and backward, per pass. */
    public static double estimateSeconds(long networkMacs, int images, Options o) {
        int trained = images - images / o.holdoutEvery();
        return 3.0 * networkMacs * trained * o.epochs() / MACS_PER_SECOND;
    }

    private BlockRecovery() {
    }


    /**
     * Recovers {@code student} (the compressed model, reconstruct form) in place from {@code original}
     * (prepared as the compressor prepared it, so the values of the cut points carry the same names).
     */
    public static Result run(Model student, Model original, CalibrationImages images, Options o,
                             Consumer<String> progress) {
        return run(student, original, images, o, progress, () -> { });
    }

    /** As {@link #run(Model, Model, CalibrationImages, Options, Consumer)}, calling {@code safePoint} after every step. */
    public static Result run(Model student, Model original, CalibrationImages images, Options o,
                             Consumer<String> progress, Runnable safePoint) {
        long t0 = System.nanoTime();
        if (o.budgetMinutes() > 0) {
            long macs = dev.acdc.inspect.ModelSummary.whatCanBeSeen(original, null, 0).macs();
            double est = estimateSeconds(macs, images.count(), o);
            if (est > o.budgetMinutes() * 60) {
                String why = String.format(Locale.ROOT, "block recovery skipped: about %s estimated for %d "
                        + "images (over its budget of %s); --recovery on runs it, --recovery epochs=N shortens it",
                        dev.acdc.runtime.TimeLeft.format(est), images.count(),
                        dev.acdc.runtime.TimeLeft.format(o.budgetMinutes() * 60));
                progress.accept(why);
                return new Result(o, List.of(), 0, why, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                        Double.NaN);
            }
        }
        Map<String, WeightRoles.Role> roles = WeightRoles.of(student);
        Set<String> factors = new HashSet<>();
        roles.forEach((k, v) -> {
            if (v == WeightRoles.Role.ATOMS || v == WeightRoles.Role.COEFFICIENTS) {
                factors.add(k);
            }
        });
        List<Segments.Segment> segments = Segments.of(student.graph(), factors::contains);
        // in original mode the tail, dense and fed the original's features, computes the original exactly
        Segments.Segment tail = o.tail() && o.mode() != Mode.ORIGINAL ? Segments.tail(student.graph(), segments) : null;
        if (tail != null && student.graph().outputs().size() == 1) {
            segments = new ArrayList<>(segments);
            segments.add(tail); // the head learns the recovered features; its loss is on the logits
        }
        segments = joinSharing(student, segments, factors);
        Set<String> teacherValues = original.graph().valueNames();
        List<Segments.Segment> usable = new ArrayList<>();
        for (Segments.Segment s : segments) {
            if (teacherValues.contains(s.output()) && (s.input().equals(student.graph().dataInputs().get(0).name())
                    || teacherValues.contains(s.input()))) {
                usable.add(s);
            }
        }
        List<String> ends = new ArrayList<>();
        for (Segments.Segment s : usable) {
            ends.add(s.input());
            ends.add(s.output());
        }
        Map<String, long[]> shapes = Segments.shapes(student, ends);
        // which initializers each segment reads; one read by several segments stays as fitted
        List<Model> parts = new ArrayList<>();
        Map<String, Integer> readers = new HashMap<>();
        for (Segments.Segment s : usable) {
            Model part = Segments.extract(student, s, shapes.get(s.input()));
            parts.add(part);
            for (String k : part.graph().initializers().keySet()) {
                readers.merge(k, 1, Integer::sum);
            }
        }
        progress.accept(String.format(Locale.ROOT, "block recovery: %d segment(s), inputs from the %s, %d passes over "
                        + "%d images (1 in %d held out to judge each)", usable.size(),
                switch (o.mode()) {
                    case ORIGINAL -> "original";
                    case SEQUENTIAL -> "recovered compressed prefix";
                    case GRAFT -> "recovered compressed prefix, grafted into the original (loss on the logits)";
                }, o.epochs(), images.count(),
                o.holdoutEvery()));
        String logits = original.graph().outputs().get(0).name();
        float[] reference = activations(original, logits, images, images.count());
        double[] before = agreement(reference, activations(student, logits, images, images.count()), images.count(),
                o.holdoutEvery());
        List<SegmentResult> out = new ArrayList<>();
        Map<String, Tensor> fitted = new java.util.LinkedHashMap<>(student.graph().initializers());
        RecoveryCheckpoint ck = o.checkpoint();
        String fingerprint = ck == null ? null : RecoveryCheckpoint.fingerprint(student, o.spec(), images.x(), images.count());
        int start = 0;
        double earlier = 0;
        if (ck != null && ck.resume()) {
            RecoveryCheckpoint.State st = ck.load(student, fingerprint);
            start = Math.min(st.done(), usable.size());
            out.addAll(st.segments());
            earlier = st.seconds();
            progress.accept(String.format(Locale.ROOT, "block recovery: resumed from %s: %d of %d segment(s) done "
                    + "before the stop", ck.folder(), start, usable.size()));
        }
        // each segment's steps cost about its multiply-adds: the time left is extrapolated on that weight
        double[] weight = new double[usable.size()];
        double totalWeight = 0;
        for (int k = start; k < usable.size(); k++) {
            long macs = dev.acdc.inspect.ModelSummary.whatCanBeSeen(parts.get(k), null, 0).macs();
            weight[k] = Math.max(1, macs);
            totalWeight += weight[k];
        }
        dev.acdc.runtime.TimeLeft clock = new dev.acdc.runtime.TimeLeft(totalWeight);
        double doneWeight = 0;
        int done = start;
        try {
            Run run = new Run(student, original, images, o, roles, readers, usable, parts, shapes, reference,
                    progress, safePoint, clock);
            for (int k = start; k < usable.size(); k++) {
                SegmentResult sr = recoverSegment(run, k, doneWeight, weight[k]);
                if (sr == null) {
                    continue;
                }
                doneWeight += weight[k];
                out.add(sr);
                done = k + 1;
                if (ck != null && ck.everySegment()) {
                    ck.save(student, fingerprint, done, out, earlier + (System.nanoTime() - t0) / 1e9);
                }
                progress.accept("block recovery: segment " + (k + 1) + "/" + usable.size() + " " + sr.line());
            }
        } catch (AcdcException e) {
            if (e.exitCode() != dev.acdc.train.StopSignal.EXIT_INTERRUPTED || ck == null || done == 0) {
                throw e;
            }
            // a stop asked for (Ctrl-C): the finished segments are kept for --resume; the one in training is lost
            ck.save(student, fingerprint, done, out, earlier + (System.nanoTime() - t0) / 1e9);
            throw new AcdcException(dev.acdc.train.StopSignal.EXIT_INTERRUPTED, String.format(Locale.ROOT,
                    "interrupted by Ctrl-C in block recovery after %d of %d segment(s); those are kept in %s (continue "
                            + "with the same options and --resume --checkpoint %s); no output was written or replaced",
                    done, usable.size(), ck.folder(), ck.folder()), null);
        }
        double[] after = agreement(reference, activations(student, logits, images, images.count()), images.count(),
                o.holdoutEvery());
        String reverted = Double.isNaN(before[2]) ? null : undoIfWorse(student, fitted, before[2], after[2]);
        Result result = new Result(o, out, earlier + (System.nanoTime() - t0) / 1e9, reverted, before[0], after[0], before[1],
                after[1], before[2], after[2]);
        progress.accept(result.agreementLine());
        if (reverted != null) {
            progress.accept(reverted);
        }
        return result;
    }

    /** What every segment of one recovery reads: the models, the images, the options, the cut and the clock. */
    private record Run(Model student, Model original, CalibrationImages images, Options o,
                       Map<String, WeightRoles.Role> roles, Map<String, Integer> readers, List<Segments.Segment> usable,
                       List<Model> parts, Map<String, long[]> shapes, float[] reference, Consumer<String> progress,
                       Runnable safePoint, dev.acdc.runtime.TimeLeft clock) {
    }

    /**
     * Trains segment {@code k} of {@code r} to reproduce the original's output of it and puts its weights into
     * the student where the segment kept them; null when it was skipped (memory cap, shapes unknown, or an
     * operator the trainer cannot differentiate: it keeps its fitted weights). {@code doneWeight} and
     * {@code segWeight}: the work before it and its own, for the time left.
     */
    private static SegmentResult recoverSegment(Run r, int k, double doneWeight, double segWeight) {
        Segments.Segment s = r.usable().get(k);
        Model part = r.parts().get(k);
        long[] inShape = sample(r.shapes().get(s.input()));
        long[] outShape = sample(r.shapes().get(s.output()));
        if (inShape == null || outShape == null) {
            return null;
        }
        long per = count(inShape) + count(outShape);
        int n = (int) Math.min(r.images().count(), r.o().memoryCapValues() / per);
        if (n < 2 * r.o().holdoutEvery()) {
            r.progress().accept("block recovery: segment " + s.input() + " -> " + s.output() + " skipped: "
                    + "its activations of " + n + " images would exceed the memory cap");
            return null;
        }
        boolean fromInput = s.input().equals(r.student().graph().dataInputs().get(0).name());
        float[] x = fromInput ? Arrays.copyOf(r.images().x(), n * r.images().perSample())
                : activations(r.o().mode() == Mode.ORIGINAL ? r.original() : r.student(), s.input(), r.images(), n);
        List<String> frozen = new ArrayList<>();
        Set<String> trainable = new HashSet<>();
        for (String name : part.graph().initializers().keySet()) {
            WeightRoles.Role role = r.roles().get(name);
            if (role == null || role == WeightRoles.Role.STATISTICS) {
                continue;
            }
            if (r.readers().getOrDefault(name, 0) > 1) {
                frozen.add(name);
            } else {
                trainable.add(name);
            }
        }
        // graft: the segment inside the original's rest of the network (frozen), the loss on the logits
        // (progressive grafting: inputs from the recovered prefix); otherwise the original's activation
        Model grafted = r.o().mode() == Mode.GRAFT ? graft(part, r.original(), s.output(), r.shapes().get(s.output()))
                : null;
        Model trained = grafted != null ? grafted : part;
        float[] y;
        if (grafted != null) {
            int classes = r.reference().length / r.images().count();
            y = Arrays.copyOf(r.reference(), n * classes);
            outShape = new long[] {classes};
        } else {
            y = activations(r.original(), s.output(), r.images(), n);
        }
        int convs = (int) s.nodes().stream().filter(nd -> nd.is("Conv")).count();
        final int seg = k + 1;
        SegmentTrainer.Result fit;
        try {
            fit = SegmentTrainer.train(trained, trainable::contains, x, inShape, y, outShape, n,
                    new SegmentTrainer.Options(r.o().epochs(), r.o().batch(), r.o().lr(), 1000L + k,
                            r.o().holdoutEvery()),
                    (step, total, err) -> {
                        r.safePoint().run(); // where a stop asked for (Ctrl-C) is taken
                        if (step == total || step % 50 == 0) {
                            r.progress().accept(String.format(Locale.ROOT, "block recovery: segment %d/%d step %d/%d, "
                                    + "batch error %.4f%s", seg, r.usable().size(), step, total, err,
                                    r.clock().after(doneWeight + segWeight * step / Math.max(1, total))));
                        }
                    });
        } catch (AcdcException e) {
            if (e.exitCode() != AcdcException.BAD_INPUT) {
                throw e; // a stop asked for (Ctrl-C) or a failed check is not the segment's
            }
            // e.g. an operator the trainer has no gradient for: this segment keeps its fitted weights
            r.progress().accept("block recovery: segment " + seg + "/" + r.usable().size() + " " + s.input() + " -> "
                    + s.output() + " kept as fitted: " + e.getMessage());
            return null;
        }
        if (fit.kept()) {
            for (String name : trainable) {
                Tensor t = trained.graph().initializer(name);
                r.student().graph().putInitializer(t);
            }
        }
        return new SegmentResult(s.input(), s.output(), convs, n, fit, frozen);
    }

    /**
     * The stage's guard: where the network's distillation loss on the held-out images (KL from the original's
     * outputs, {@link #agreement}) is higher after recovery than before, every initializer of {@code student}
     * returns to {@code fitted} and the line saying so is returned; otherwise null and nothing changes. Each
     * segment may come closer to the original and the network still move away from it (seen with shared
     * coefficients, --share stage). A loss, not the top-1 agreement: on a few dozen held-out images the
     * agreement moves in steps of one image, a loss by every image's whole output.
     */
    static String undoIfWorse(Model student, Map<String, Tensor> fitted, double lossBefore, double lossAfter) {
        if (!(lossAfter > lossBefore)) {
            return null;
        }
        student.graph().initializers().clear();
        student.graph().initializers().putAll(fitted);
        return String.format(Locale.ROOT, "block recovery undone: the network's distillation loss on the held-out "
                + "images rose (KL %.4f -> %.4f), so the model stays as fitted", lossBefore, lossAfter);
    }

    /**
     * {@code part} followed by the original's network after {@code cut}: one model whose output is the
     * original's logits; null when nothing follows or an initializer name is in both (it would train twice).
     */
    static Model graft(Model part, Model original, String cut, long[] cutShape) {
        Segments.Segment rest = Segments.after(original.graph(), cut);
        if (rest == null || cutShape == null) {
            return null;
        }
        Model suffix = Segments.extract(original, rest, cutShape);
        for (String name : suffix.graph().initializers().keySet()) {
            if (part.graph().isInitializer(name)) {
                return null;
            }
        }
        dev.acdc.ir.Graph g = new dev.acdc.ir.Graph(part.graph().name() + "+original");
        g.inputs().addAll(part.graph().inputs());
        g.nodes().addAll(part.graph().nodes());
        g.nodes().addAll(suffix.graph().nodes());
        part.graph().initializers().values().forEach(g::putInitializer);
        suffix.graph().initializers().values().forEach(g::putInitializer);
        g.outputs().add(new dev.acdc.ir.ValueInfo(rest.output(), dev.acdc.ir.DataType.FLOAT, null, null));
        return new Model(part.irVersion(), part.opsets(), part.producerName(), part.producerVersion(),
                new java.util.LinkedHashMap<>(), g, null);
    }

    /**
     * Joins neighbouring segments that read a factor in common (coefficients shared by the convs of a
     * stage or of the network), so that every factor trains in one segment with all the convs it serves.
     */
    static List<Segments.Segment> joinSharing(Model student, List<Segments.Segment> segments, Set<String> factors) {
        List<Segments.Segment> out = new ArrayList<>();
        Set<String> previous = null;
        for (Segments.Segment s : segments) {
            Set<String> reads = new HashSet<>(Segments.extract(student, s, new long[] {1}).graph().initializers().keySet());
            reads.retainAll(factors);
            if (previous != null && !java.util.Collections.disjoint(previous, reads)) {
                Segments.Segment last = out.remove(out.size() - 1);
                List<dev.acdc.ir.Node> nodes = new ArrayList<>(last.nodes());
                nodes.addAll(s.nodes());
                out.add(new Segments.Segment(last.input(), s.output(), List.copyOf(nodes)));
                previous.addAll(reads);
            } else {
                out.add(s);
                previous = reads;
            }
        }
        return out;
    }

    /**
     * Top-1 agreement of two [n, classes] outputs, over all rows and over the held-out rows, and the mean
     * distillation loss on the held-out rows: KL(softmax a ‖ softmax b), in nats.
     */
    static double[] agreement(float[] a, float[] b, int n, int holdoutEvery) {
        int classes = a.length / n;
        int all = 0;
        int held = 0;
        int heldCount = 0;
        double kl = 0;
        for (int i = 0; i < n; i++) {
            boolean same = dev.acdc.runtime.Validator.argmax(a, i * classes, classes)
                    == dev.acdc.runtime.Validator.argmax(b, i * classes, classes);
            all += same ? 1 : 0;
            if (i % holdoutEvery == holdoutEvery - 1) {
                heldCount++;
                held += same ? 1 : 0;
                kl += dev.acdc.runtime.calibration.OutputFitter.kl(a, b, i * classes, classes);
            }
        }
        return new double[] {(double) all / n, heldCount == 0 ? Double.NaN : (double) held / heldCount,
                heldCount == 0 ? Double.NaN : kl / heldCount};
    }

    /** {@code value} of model {@code m} on the first {@code n} calibration images, by ONNX Runtime. */
    private static float[] activations(Model m, String value, CalibrationImages images, int n) {
        byte[] bytes = ActivationModels.exposing(m, List.of(value));
        try (ModelIO io = new ModelIO(bytes, Sessions.Config.cpu(), s -> { })) {
            int fixed = io.fixedBatch();
            int batch = fixed > 0 ? fixed : 64;
            int per = images.perSample();
            float[] out = null;
            int outPer = 0;
            for (int s = 0; s < n; s += batch) {
                int m1 = Math.min(batch, n - s);
                float[] chunk = new float[(fixed > 0 ? fixed : m1) * per];
                System.arraycopy(images.x(), s * per, chunk, 0, m1 * per);
                float[] yv = io.run(chunk, fixed > 0 ? fixed : m1, images.sampleShape());
                if (out == null) {
                    outPer = yv.length / (fixed > 0 ? fixed : m1);
                    out = new float[n * outPer];
                }
                System.arraycopy(yv, 0, out, s * outPer, m1 * outPer);
            }
            return out;
        }
    }

    private static long[] sample(long[] shape) {
        if (shape == null || shape.length < 2) {
            return null;
        }
        long[] s = Arrays.copyOfRange(shape, 1, shape.length);
        for (long d : s) {
            if (d <= 0) {
                return null;
            }
        }
        return s;
    }

    private static long count(long[] s) {
        long p = 1;
        for (long d : s) {
            p *= d;
        }
        return p;
    }
}
