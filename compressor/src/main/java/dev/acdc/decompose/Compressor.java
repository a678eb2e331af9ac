package dev.acdc.decompose;

import dev.acdc.ir.Model;
import dev.acdc.ir.OpSchema;
import dev.acdc.passes.GemmAsPointwiseConv;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.UpgradeOpset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The library entry point of compression: clean the graph (fold constants, identities and BN),
 * raise the opset to 13, then let the settings' {@link DecompositionMethod} (ACDC by default) plan the
 * sharing sets, fit them (by truncated SVD, for ACDC), and write the compact form.
 * The model passed in is rewritten in place and returned inside the result.
 */
public final class Compressor {
    public static final long EXPORT_OPSET = 13;

    /** What compression produced, by which method, with seconds per phase. */
    public record Result(Model model, Plan plan, Decomposition decomposition, List<String> notes,
                         Map<String, Double> timings, DecompositionMethod method) {
    }

    private Compressor() {
    }

    public static Result compress(Model m, Settings s, Consumer<String> progress) {
        return compress(m, s, progress, null);
    }

    /**
     * Why nothing can be decomposed, for a person: where the model's weights sit by kind of conv (depthwise,
     * pointwise, spatial but refused and why, not in a conv) and what acdc can still do for it.
     */
    static String nothingToDecompose(Plan plan, long totalParams) {
        Map<String, long[]> kinds = new LinkedHashMap<>(); // kind → {convs, weights}
        Map<String, String> example = new LinkedHashMap<>();
        for (ConvPlan c : plan.convs()) {
            String kind = c.inPerGroup == 1 && c.group > 1 ? "depthwise"
                    : !c.spatial() ? "pointwise 1x1" : "spatial";
            example.putIfAbsent(kind, c.name() + ": " + c.reason());
            long[] k = kinds.computeIfAbsent(kind, x -> new long[2]);
            k[0]++;
            k[1] += c.denseParams();
        }
        double total = Math.max(1, totalParams);
        List<String> parts = new ArrayList<>();
        long inConvs = 0;
        for (Map.Entry<String, long[]> e : kinds.entrySet()) {
            long[] k = e.getValue();
            inConvs += k[1];
            String what = switch (e.getKey()) {
                case "depthwise" -> "one input channel per group: no channel blocks to share coefficients over";
                case "pointwise 1x1" -> plan.settings().pointwise() == 0 ? "kept dense by --pointwise dense"
                        : "too narrow to factor, e.g. " + example.get(e.getKey());
                default -> "refused, e.g. " + example.get(e.getKey());
            };
            parts.add(percent(k[1] / total) + " in " + k[0] + " " + e.getKey() + " conv" + (k[0] == 1 ? "" : "s")
                    + " (" + what + ")");
        }
        if (totalParams > inConvs) {
            parts.add(percent((totalParams - inConvs) / total) + " outside convs (classifier, normalisation)");
        }
        return "no convolution can be decomposed: of the model's " + String.format(java.util.Locale.ROOT, "%,d", totalParams)
                + " weights, " + String.join(", ", parts)
                + ". ACDC factors the spatial kernels (3x3 and larger) of convs with several input channels per group, "
                + "and 1x1 convs wide enough to gain from a low rank (--pointwise); "
                + "what acdc can do for this model is int8 (acdc quantize)";
    }

    private static String percent(double f) {
        return f > 0 && f < 0.001 ? "<0.1 %" : String.format(java.util.Locale.ROOT, "%.1f %%", 100 * f);
    }

    /**
     * Makes {@code m} ready for planning, in place: the standard passes, opset {@link #EXPORT_OPSET}, and — unless
     * 1×1 convs stay dense — every fully connected layer wide enough to be factored written as the 1×1 conv it
     * is ({@link GemmAsPointwiseConv}). Every place that plans a model prepares it so, so set ids agree.
     */
    public static void prepare(Model m, Settings s) {
        PassManager.standard().run(m);
        new PassManager(List.of(new UpgradeOpset(EXPORT_OPSET))).run(m);
        if (s.pointwise() > 0) {
            new PassManager(List.of(new GemmAsPointwiseConv((in, out) -> in >= Planner.MIN_WIDTH && out >= Planner.MIN_WIDTH
                    && s.defaultPointwiseRank(in, out) >= Planner.MIN_WIDTH))).run(m);
        }
    }

    /** As {@link #compress(Model, Settings, Consumer)}, with {@code refinement} (may be null) run after the fit. */
    public static Result compress(Model m, Settings s, Consumer<String> progress, Refinement refinement) {
        return compress(m, s, DecompositionMethods.get(s.method()), progress, refinement);
    }

    /**
     * As {@link #compress(Model, Settings, Consumer, Refinement)} by {@code method}, registered or not
     * (its id replaces the settings' method).
     */
    public static Result compress(Model m, Settings s, DecompositionMethod method, Consumer<String> progress,
                                  Refinement refinement) {
        s = new Settings(s.share(), s.atoms(), s.group(), s.form(), s.exclude(), s.allowNonfinite(), s.setAtoms(),
                method.id(), s.pointwise());
        Map<String, Double> timings = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        long t = System.nanoTime();
        OpSchema.checkModel(m);
        List<String> nonFinite = dev.acdc.ir.NonFiniteWeights.describe(m.graph());
        if (!nonFinite.isEmpty()) {
            if (!s.allowNonfinite()) {
                throw new dev.acdc.AcdcException("weights hold non-finite values: " + String.join(", ", nonFinite)
                        + "; the SVD fit needs finite weights (--allow-nonfinite keeps those convolutions dense "
                        + "and goes on)");
            }
            notes.add("weights with non-finite values, left as they are: " + String.join(", ", nonFinite));
        }
        prepare(m, s);
        t = lap(timings, "passes", t);
        Plan plan = method.plan(m, s, progress);
        notes.addAll(plan.notes());
        t = lap(timings, "plan", t);
        if (plan.sets().isEmpty()) {
            throw new dev.acdc.AcdcException(nothingToDecompose(plan, m.graph().parameterCount()));
        }
        Decomposition d = method.fit(plan, m.graph(), progress);
        t = lap(timings, "fit", t);
        if (refinement != null) {
            notes.addAll(refinement.refine(m, d, progress));
            t = lap(timings, "fit-" + refinement.id(), t);
        }
        notes.addAll(method.export(m, d, s.form()));
        // the file says acdc wrote it, and from what
        if (!m.metadata().containsKey("acdc.source_producer")) {
            m.metadata().put("acdc.source_producer", (m.producerName() + " " + m.producerVersion()).trim());
        }
        String version = Compressor.class.getPackage().getImplementationVersion();
        m.setProducer("acdc", version == null ? "dev" : version);
        m.metadata().put("acdc.version", "1");
        if (!method.id().equals(AcdcMethod.ID)) {
            m.metadata().put("acdc.method", method.id());
        }
        m.metadata().putAll(method.metadata(plan, refinement == null ? "svd" : refinement.id()));
        lap(timings, "export", t);
        return new Result(m, plan, d, notes, timings, method);
    }

    static long lap(Map<String, Double> timings, String phase, long since) {
        long now = System.nanoTime();
        timings.merge(phase, (now - since) / 1e9, Double::sum);
        return now;
    }
}
