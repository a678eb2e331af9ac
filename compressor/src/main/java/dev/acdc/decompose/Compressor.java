package dev.acdc.decompose;

import dev.acdc.ir.Model;
import dev.acdc.ir.OpSchema;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.UpgradeOpset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The library entry point of compression: clean the graph (fold constants, identities and BN),
 * raise the opset to 13, plan the sharing sets, fit them by truncated SVD, and write the compact form.
 * The model passed in is rewritten in place and returned inside the result.
 */
public final class Compressor {
    public static final long EXPORT_OPSET = 13;

    /** What compression produced, with seconds per phase. */
    public record Result(Model model, Plan plan, Decomposition decomposition, List<String> notes,
                         Map<String, Double> timings) {
    }

    private Compressor() {
    }

    public static Result compress(Model m, Settings s, Consumer<String> progress) {
        return compress(m, s, progress, null);
    }

    /** As {@link #compress(Model, Settings, Consumer)}, with {@code refinement} (may be null) run after the SVD fit. */
    public static Result compress(Model m, Settings s, Consumer<String> progress, Refinement refinement) {
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
        PassManager.standard().run(m);
        new PassManager(List.of(new UpgradeOpset(EXPORT_OPSET))).run(m);
        t = lap(timings, "passes", t);
        progress.accept("planning sharing sets (" + s.share().id() + ")");
        Plan plan = Planner.plan(m, s);
        notes.addAll(plan.notes());
        t = lap(timings, "plan", t);
        if (plan.sets().isEmpty()) {
            List<String> why = plan.convs().stream().filter(c -> c.spatial())
                    .map(c -> c.name() + " (" + c.reason() + ")").toList();
            throw new dev.acdc.AcdcException("no convolution can be decomposed: " + (why.isEmpty() ? "none is spatial"
                    : String.join("; ", why.subList(0, Math.min(3, why.size())))
                    + (why.size() > 3 ? "; and " + (why.size() - 3) + " more" : "")));
        }
        progress.accept("fitting " + plan.sets().size() + " sharing set(s) by truncated SVD");
        Decomposition d = Decomposition.fit(plan, m.graph());
        t = lap(timings, "fit", t);
        if (refinement != null) {
            notes.addAll(refinement.refine(m, d, progress));
            t = lap(timings, "fit-" + refinement.id(), t);
        }
        notes.addAll(CompactExporter.export(m, d, s.form()));
        // the file says acdc wrote it, and from what
        if (!m.metadata().containsKey("acdc.source_producer")) {
            m.metadata().put("acdc.source_producer", (m.producerName() + " " + m.producerVersion()).trim());
        }
        String version = Compressor.class.getPackage().getImplementationVersion();
        m.setProducer("acdc", version == null ? "dev" : version);
        m.metadata().put("acdc.version", "1");
        m.metadata().put("acdc.share", s.share().id());
        m.metadata().put("acdc.atoms", s.atoms() > 0 ? Integer.toString(s.atoms()) : "default");
        m.metadata().put("acdc.group", Integer.toString(plan.group()));
        m.metadata().put("acdc.form", s.form().id());
        m.metadata().put("acdc.fit", refinement == null ? "svd" : refinement.id());
        m.metadata().put("acdc.sets", Integer.toString(plan.sets().size()));
        m.metadata().put("acdc.decomposed_convs", Integer.toString(plan.decomposed().size()));
        lap(timings, "export", t);
        return new Result(m, plan, d, notes, timings);
    }

    static long lap(Map<String, Double> timings, String phase, long since) {
        long now = System.nanoTime();
        timings.merge(phase, (now - since) / 1e9, Double::sum);
        return now;
    }
}
