package dev.acdc.report;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.Decomposition;
import dev.acdc.decompose.DecompositionMethod;
import dev.acdc.decompose.OutputFit;
import dev.acdc.decompose.Plan;
import dev.acdc.decompose.SharingSet;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.linalg.LowRank;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The report of {@code acdc compress}: the two models' sizes, the settings, every conv and sharing set
 * with its fit, the totals, notes and timings, the ONNX Runtime probe, and — where the run did them —
 * the output fit, the fine-tune, the write-back check, the validation, int8 and the per-set sensitivity.
 * All figures are computed from the models themselves.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CompressReport(int schemaVersion, String kind, ReportSchema.Provenance acdc, ModelStats input,
                             ModelStats output, Settings settings, List<Conv> convs, List<SetEntry> sets,
                             Totals totals, List<String> notes, Map<String, Double> timings,
                             Verification verification, OutputFitSection outputFit, RecoverySection recovery,
                             FineTuneSection finetune,
                             Consistency consistency, ValidationSection validation,
                             QuantizationSection quantization, SensitivitySection sensitivity, String verdict)
        implements Report {
    public static final String KIND = "compress";

    public CompressReport {
        if (!KIND.equals(kind)) {
            throw new IllegalArgumentException("a compress report has kind " + KIND + ", not " + kind);
        }
        Objects.requireNonNull(acdc, "acdc");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(totals, "totals");
        Objects.requireNonNull(verification, "verification");
        Objects.requireNonNull(verdict, "verdict");
        convs = List.copyOf(convs);
        sets = List.copyOf(sets);
        notes = List.copyOf(notes);
        timings = Map.copyOf(timings);
    }

    /** A model's path, parameters, bytes and MACs (and, for the output, its MACs in factorized form). */
    public record ModelStats(String path, long params, long bytes, long macs,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Long macsFactorized) {
        static ModelStats of(Path p, ModelSummary s, Long macsFactorized) {
            return new ModelStats(p == null ? null : p.toString(), s.params(), s.bytes(), s.macs(), macsFactorized);
        }
    }

    /**
     * The decomposition's settings: the sharing scope, the atom count ("default" or a number), the block
     * width and why, the export form, the fit (svd or output) and the exclusion pattern (null: none).
     */
    public record Settings(String share, @JsonSerialize(using = DigitsAsNumber.class) String atoms, long group,
                           String groupSource, String form, String fit, String exclude) {
    }

    /** One conv: its kernel O×I×kh×kw, whether it was decomposed (else why not), its set, and its errors. */
    public record Conv(String name, long[] kernel, long group, boolean decomposed, String reason, String set,
                       int blocks, Double relError,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Double relErrorSvd,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Double outputErrorSvd,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Double outputError, long denseParams) {
        public Conv {
            relError = Finite.of(relError);
            relErrorSvd = Finite.of(relErrorSvd);
            outputErrorSvd = Finite.of(outputErrorSvd);
            outputError = Finite.of(outputError);
        }

        /** A kernel larger than 1×1, or than 1 tap for a 1-D conv (the convs ACDC decomposes into atoms). */
        @JsonIgnore
        public boolean spatial() {
            long taps = 1;
            for (int i = 2; i < kernel.length; i++) {
                taps *= kernel[i];
            }
            return kernel.length >= 3 && taps > 1; // 2-D, or 1-D with 1-D atoms
        }

        /** "64x32x3x3". */
        @JsonIgnore
        public String kernelString(String times) {
            StringBuilder b = new StringBuilder();
            for (long k : kernel) {
                b.append(b.length() == 0 ? "" : times).append(k);
            }
            return b.toString();
        }
    }

    /** One sharing set: its convs, block tiling, atoms, the SVD's energy and singular values, its parameters. */
    public record SetEntry(String id, List<String> convs, int blocks, int[] shape, int atoms, Double energy,
                           Double discardedEnergy, double[] singularValues, String svd,
                           @JsonInclude(JsonInclude.Include.NON_NULL) Integer outputFitIterations,
                           @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> outputFitObjective,
                           long denseParams, long acdcParams) {
        public SetEntry {
            energy = Finite.of(energy);
            discardedEnergy = Finite.of(discardedEnergy);
        }
    }

    /** The parameters decomposed and kept, and the model's parameter and byte ratios (null: input has none). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    /**
     * Over all decomposed convs, then per kind: the spatial convs' weights kept (decomposed or dense) and, when
     * the model has pointwise (1×1, not depthwise) convs, theirs ({@code pointwiseConvs} 0 and the fraction null
     * otherwise).
     */
    public record Totals(int decomposedConvs, long spatialConvs, long denseParamsOfDecomposed, long acdcParams,
                         double fractionOfDecomposedWeights, double fractionOfSpatialWeights, Double paramRatio,
                         Double byteRatio, int decomposedPointwise, long pointwiseConvs, Double fractionOfPointwiseWeights) {
    }

    /** What the decomposition itself determines: the models, the settings, the convs, the sets, the totals. */
    public record Decomposed(ModelStats input, ModelStats output, Settings settings, List<Conv> convs,
                             List<SetEntry> sets, Totals totals) {
    }

    /** The sections of {@code r}, which compressed {@code input} (summary {@code before}) into {@code after}. */
    public static Decomposed decomposed(Path input, ModelSummary before, Path output, ModelSummary after,
                                        Compressor.Result r) {
        Plan plan = r.plan();
        dev.acdc.decompose.Settings s = plan.settings();
        Decomposition d = r.decomposition();
        boolean outputFit = plan.decomposed().stream().anyMatch(c -> d.outputError(c) != null);
        Settings settings = new Settings(s.share().id(), s.atoms() > 0 ? Integer.toString(s.atoms()) : "default",
                plan.group(), plan.groupReason(), s.form().id(), outputFit ? "output" : "svd",
                s.exclude() == null ? null : s.exclude().pattern());
        List<Conv> convs = new ArrayList<>();
        for (ConvPlan c : plan.convs()) {
            OutputFit.ConvError oe = c.decomposed() ? d.outputError(c) : null;
            convs.add(new Conv(c.name(), c.kernel(), c.group(), c.decomposed(), c.reason(), c.setId(), c.blocks(),
                    c.decomposed() ? d.relError(c) : null, oe == null ? null : d.svdRelError(c),
                    oe == null ? null : oe.svd(), oe == null ? null : oe.fitted(), c.denseParams()));
        }
        List<SetEntry> sets = new ArrayList<>();
        long dense = 0;
        long acdc = 0;
        long[] kindDense = new long[2]; // spatial, pointwise: dense weights of the decomposed sets
        long[] kindAcdc = new long[2];
        for (SharingSet set : plan.sets()) {
            int kind = set.pointwise() ? 1 : 0;
            kindDense[kind] += set.denseParams();
            kindAcdc[kind] += set.acdcParams();
            LowRank.Fit f = d.fit(set.id());
            List<Double> objective = d.objective(set.id());
            sets.add(new SetEntry(set.id(), set.members().stream().map(ConvPlan::name).toList(), set.blocks(),
                    set.shape(), set.atoms(), f.energyFraction(), f.discardedEnergy(), f.sigma(), f.method(),
                    objective == null ? null : objective.size() - 1, objective, set.denseParams(), set.acdcParams()));
            dense += set.denseParams();
            acdc += set.acdcParams();
        }
        long spatial = plan.convs().stream().filter(ConvPlan::spatial).count();
        long spatialDense = plan.convs().stream().filter(ConvPlan::spatial).mapToLong(ConvPlan::denseParams).sum();
        long keptSpatial = spatialDense - kindDense[0];
        java.util.function.Predicate<ConvPlan> pointwise = c -> !c.spatial() && !(c.kernel()[1] == 1 && c.group() > 1);
        long pw = plan.convs().stream().filter(pointwise).count();
        long pwDense = plan.convs().stream().filter(pointwise).mapToLong(ConvPlan::denseParams).sum();
        int pwDecomposed = (int) plan.decomposed().stream().filter(pointwise).count();
        Totals totals = new Totals(plan.decomposed().size(), spatial, dense, acdc,
                dense == 0 ? 1.0 : (double) acdc / dense,
                spatialDense == 0 ? 1.0 : (double) (kindAcdc[0] + keptSpatial) / spatialDense,
                ratioOrNull(after.params(), before.params()), ratioOrNull(after.bytes(), before.bytes()),
                pwDecomposed, pw, pwDense == 0 ? null : (double) (kindAcdc[1] + pwDense - kindDense[1]) / pwDense);
        return new Decomposed(ModelStats.of(input, before, null),
                ModelStats.of(output, after, factorizedMacs(before, plan, r.method())), settings, convs, sets, totals);
    }

    /** a / b, or null ("not defined") when b is 0: never the string "Infinity" where a number belongs. */
    private static Double ratioOrNull(long a, long b) {
        return b == 0 ? null : (double) a / b;
    }

    /** MACs if every decomposed conv ran in factorized form, the rest unchanged. */
    static long factorizedMacs(ModelSummary before, Plan plan, DecompositionMethod method) {
        long macs = before.macs();
        for (ConvPlan c : plan.decomposed()) {
            long[] out = c.outShape();
            long hw = Math.max(1, out[1]) * Math.max(1, out[2]);
            macs -= c.denseParams() * hw;
            macs += method.factorizedMacs(plan, c);
        }
        return macs;
    }

    /** The report of a run that did {@code d} and the stages given (null: not done). */
    public static CompressReport of(ReportSchema.Provenance acdc, Decomposed d, List<String> notes,
                                    Map<String, Double> timings, Verification verification,
                                    OutputFitSection outputFit, RecoverySection recovery, FineTuneSection finetune,
                                    Consistency consistency,
                                    ValidationSection validation, QuantizationSection quantization,
                                    SensitivitySection sensitivity, String verdict) {
        return new CompressReport(ReportSchema.VERSION, KIND, acdc, d.input(), d.output(), d.settings(), d.convs(),
                d.sets(), d.totals(), notes, timings, verification, outputFit, recovery, finetune, consistency,
                validation,
                quantization, sensitivity, verdict);
    }

    /** The set {@code id}, or null. */
    public SetEntry set(String id) {
        for (SetEntry s : sets) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        return null;
    }

    /** Whether any conv was fitted to the original's outputs. */
    @JsonIgnore
    public boolean outputFitted() {
        return convs.stream().anyMatch(c -> c.outputError() != null);
    }

    /**
     * Per conv, the parameters before and after: a decomposed conv's after is its set's parameters
     * shared equally by its members.
     */
    @JsonIgnore
    public Map<String, Double> paramsAfter() {
        Map<String, Double> after = new HashMap<>();
        for (Conv c : convs) {
            SetEntry s = c.decomposed() ? set(c.set()) : null;
            after.put(c.name(), !c.decomposed() ? (double) c.denseParams()
                    : s == null ? Double.NaN : (double) s.acdcParams() / Math.max(1, s.convs().size()));
        }
        return after;
    }

    /** Writes a string of digits as a JSON number (the atom count), anything else as a string ("default"). */
    static final class DigitsAsNumber extends StdSerializer<String> {
        DigitsAsNumber() {
            super(String.class);
        }

        @Override
        public void serialize(String v, JsonGenerator g, SerializerProvider p) throws IOException {
            if (v.matches("\\d{1,18}")) {
                g.writeNumber(Long.parseLong(v));
            } else {
                g.writeString(v);
            }
        }
    }
}
