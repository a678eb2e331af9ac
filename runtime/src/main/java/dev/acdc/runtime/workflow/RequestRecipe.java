package dev.acdc.runtime.workflow;

import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.FileEncoding;
import dev.acdc.decompose.Settings;
import dev.acdc.quantize.Quantizer;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.train.TrainOptions;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A request's settings as recipe keys ({@code stage.name} → value, the keys {@code acdc compress} gives its
 * options), one section a stage: what the report of a run built through the Java API records, so that
 * {@code acdc compress MODEL --recipe REPORT} reruns it. The data sets themselves are the caller's objects and
 * not named: the rerun gives them ({@code --calibration-data}, {@code --train-data}, {@code --eval-data}).
 */
public final class RequestRecipe {
    private RequestRecipe() {
    }

    /** Every setting of {@code r} that shapes the written model, in stage order. */
    public static Map<String, String> of(CompressionJob.Request r) {
        Map<String, String> m = new LinkedHashMap<>();
        load(m, r.load(), r.plan().settings());
        data(m, r);
        plan(m, r.plan());
        fit(m, r.fit());
        m.put("recovery.mode", r.recovery() == null ? "off" : r.recovery().spec());
        if (r.fineTune() != null) {
            fineTune(m, r.fineTune());
        }
        encode(m, r.encode());
        if (r.evaluation() != null) {
            m.put("runtime.batch-size", Integer.toString(r.evaluation().options().batch()));
            m.put("data.no-labels", Boolean.toString(r.evaluation().options().ignoreLabels()));
        }
        m.put("general.strict", Boolean.toString(r.output().strict()));
        return m;
    }

    private static void load(Map<String, String> m, CompressionJob.LoadOptions o, Settings s) {
        m.put("input.allow-nonfinite", Boolean.toString(s.allowNonfinite()));
        if (o.inputShape() != null) {
            m.put("input.shape", join(Arrays.stream(o.inputShape()).mapToObj(Long::toString)));
        }
    }

    private static void data(Map<String, String> m, CompressionJob.Request r) {
        CompressionJob.Calibration c = r.calibration();
        if (c != null) {
            m.put("data.calibration-images", Integer.toString(c.images()));
            m.put("data.calibration-seed", Long.toString(c.seed()));
        }
        Preprocessing pre = c != null ? c.pre() : r.fineTune() != null ? r.fineTune().pre()
                : r.evaluation() != null ? r.evaluation().pre() : null;
        if (pre != null) {
            m.put("data.scale", Double.toString(pre.scale()));
            m.put("data.mean", join(Arrays.stream(pre.mean()).mapToObj(Double::toString)));
            m.put("data.std", join(Arrays.stream(pre.std()).mapToObj(Double::toString)));
            m.put("data.layout", pre.nhwc() ? "nhwc" : "nchw");
        }
    }

    private static void plan(Map<String, String> m, PlanOptions p) {
        Settings s = p.settings();
        m.put("plan.method", s.method());
        m.put("plan.share", s.share().id());
        m.put("plan.atoms", s.atoms() > 0 ? Integer.toString(s.atoms()) : "auto");
        m.put("plan.pointwise", s.pointwise() == Settings.FULL_RANK ? "full" : s.pointwise() == 0 ? "dense"
                : Double.toString(s.pointwise()));
        if (!s.setAtoms().isEmpty()) {
            m.put("plan.set-atoms", Settings.formatSetAtoms(s.setAtoms()));
        }
        m.put("plan.group", s.group() > 0 ? Integer.toString(s.group()) : "auto");
        m.put("plan.form", s.form().id());
        if (s.exclude() != null) {
            m.put("plan.exclude", s.exclude().pattern());
        }
        if (p.targetSize() != null) {
            m.put("plan.target-size", p.targetSize().toString());
        }
        if (p.targetDrop() != null) {
            m.put("plan.target-drop", p.targetDrop().toString());
        }
        m.put("plan.sensitivity-images", p.sensitivityImages() == PlanOptions.AUTO ? "auto"
                : Integer.toString(p.sensitivityImages()));
    }

    private static void fit(Map<String, String> m, FitOptions f) {
        m.put("fit.mode", f.mode().name().toLowerCase(Locale.ROOT));
        m.put("fit.iterations", Integer.toString(f.iterations()));
        m.put("fit.target", f.matchSum() ? "sum" : "conv");
        m.put("finetune.filter-norm", Double.toString(f.filterNorm()));
    }

    private static void fineTune(Map<String, String> m, FineTuneJob.Settings f) {
        TrainOptions o = f.options();
        m.put("finetune.epochs", Integer.toString(o.epochs()));
        m.put("finetune.max-steps", Integer.toString(o.maxSteps()));
        m.put("finetune.batch", Integer.toString(o.batch()));
        m.put("finetune.lr", Double.toString(o.lr()));
        m.put("finetune.optimizer", TrainOptions.spell(o.optimizer()));
        m.put("finetune.momentum", Double.toString(o.momentum()));
        m.put("finetune.cycle-momentum", Boolean.toString(o.cycleMomentum()));
        m.put("finetune.weight-decay", Double.toString(o.weightDecay()));
        m.put("finetune.schedule", TrainOptions.spell(o.schedule()));
        m.put("finetune.warmup", Double.toString(o.warmup()));
        m.put("finetune.temperature", Double.toString(o.temperature()));
        m.put("finetune.kd-weight", Double.toString(o.kdWeight()));
        m.put("finetune.ce-weight", Double.toString(o.ceWeight()));
        if (o.augment() != null) {
            m.put("finetune.augment", o.augment().toString());
        }
        m.put("finetune.augment-mode", TrainOptions.spell(o.augmentMode()));
        m.put("finetune.train", TrainOptions.spell(o.train()));
        m.put("finetune.seed", Long.toString(o.seed()));
        m.put("finetune.clip", Double.toString(o.clip()));
        m.put("finetune.batch-norm", TrainOptions.spell(o.batchNorm()));
        m.put("finetune.batch-norm-start", TrainOptions.spell(o.batchNormStart()));
        m.put("finetune.select-split", Double.toString(f.selectSplit()));
        m.put("data.sample-seed", Long.toString(f.splitSeed()));
    }

    private static void encode(Map<String, String> m, EncodeOptions e) {
        Quantization.Request q = e.quantize();
        FileEncoding enc = q == null ? e.encoding() : new FileEncoding(q.compactNames(), q.localFunctions());
        if (q != null) {
            m.put("quantize.mode", q.mode().id());
            if (q.mode() == Quantizer.Mode.STATIC) { // the weights-only mode has no activation ranges
                m.put("quantize.calibration-method", q.method().id());
                if (q.method() == RangeStatistics.Method.PERCENTILE) {
                    m.put("quantize.percentile", Double.toString(q.percentile()));
                }
            }
            if (q.exclude() != null) {
                m.put("quantize.exclude", q.exclude().pattern());
            }
            m.put("quantize.coefficient-scales", q.coefficientScales().id());
        }
        m.put("write.keep-names", Boolean.toString(!enc.compactNames()));
        m.put("write.local-functions", Boolean.toString(enc.localFunctions()));
    }

    /** The values as the command's list options take them: comma-separated. */
    private static String join(Stream<String> values) {
        return values.collect(Collectors.joining(","));
    }
}
