package dev.acdc.runtime.workflow;

import dev.acdc.report.FineTuneSection;
import dev.acdc.report.OutputFitSection;
import dev.acdc.runtime.OriginalAccuracy;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.ValidationResult;

import java.util.ArrayList;
import java.util.List;

/**
 * The one-line verdict of a compression and the warnings a user must not miss: a model that is not
 * smaller than its input, one that agrees with the original on few images, one nobody measured, and
 * evaluation data on which the original itself is mostly wrong.
 */
public record Verdict(String line, List<String> warnings) {
    /** Agreement below this, on evaluation or calibration images, is called out. */
    public static final double LOW_AGREEMENT = 0.5;

    public static Verdict of(long bytesBefore, long bytesAfter, ValidationResult validation, OutputFitSection outputFit,
                      boolean fineTuned) {
        return of(bytesBefore, bytesAfter, validation, outputFit, fineTuned, List.of());
    }

    /**
     * The verdict of a compression whose probe compared {@code outputs}: a model with several outputs, or outputs
     * that are not [N, classes] (detectors, segmenters), gets them named at the end of its line.
     */
    public static Verdict of(long bytesBefore, long bytesAfter, ValidationResult validation, OutputFitSection outputFit,
                      boolean fineTuned, List<Probe.OutputDiff> outputs) {
        Verdict v = of0(bytesBefore, bytesAfter, validation, outputFit, fineTuned);
        return new Verdict(v.line() + outputsClause(outputs), v.warnings());
    }

    /**
     * "" for one [N, classes] output; else "; probe (random input): 2 outputs, worst 'boxes' max |diff| 3.1 % of
     * its scale, lowest argmax agreement 'scores' 97.0 %" — every output was compared, the line names the worst.
     */
    public static String outputsClause(List<Probe.OutputDiff> outputs) {
        if (outputs == null || outputs.isEmpty() || outputs.size() == 1 && outputs.get(0).shape().length == 2) {
            return "";
        }
        Probe.OutputDiff worst = null;
        Probe.OutputDiff lowest = null;
        for (Probe.OutputDiff d : outputs) {
            if (worst == null || relative(d) > relative(worst)) {
                worst = d;
            }
            if (!Double.isNaN(d.agreement()) && (lowest == null || d.agreement() < lowest.agreement())) {
                lowest = d;
            }
        }
        StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT, "; probe (random input): %d output%s, ",
                outputs.size(), outputs.size() == 1 ? "" : "s"));
        sb.append(outputs.size() == 1 ? "" : "worst ").append('\'').append(dev.acdc.util.Text.printable(worst.name()))
                .append(String.format(java.util.Locale.ROOT, "' max |diff| %.3g %% of its scale", 100 * relative(worst)));
        if (lowest != null) {
            sb.append(String.format(java.util.Locale.ROOT, ", %sargmax agreement '%s' %.1f %%",
                    outputs.size() == 1 ? "" : "lowest ", dev.acdc.util.Text.printable(lowest.name()),
                    100 * lowest.agreement()));
        }
        return sb.toString();
    }

    private static double relative(Probe.OutputDiff d) {
        return d.outputScale() > 0 ? d.maxAbsDiff() / d.outputScale() : d.maxAbsDiff() > 0 ? Double.POSITIVE_INFINITY : 0;
    }

    private static Verdict of0(long bytesBefore, long bytesAfter, ValidationResult validation, OutputFitSection outputFit,
                      boolean fineTuned) {
        List<String> warnings = new ArrayList<>();
        double ratio = (double) bytesBefore / Math.max(1, bytesAfter);
        String size = bytesAfter < bytesBefore ? String.format("%.1fx smaller", ratio)
                : String.format("%.2fx the input's size", 1 / ratio);
        if (bytesAfter >= bytesBefore) {
            warnings.add(String.format("the output (%d bytes) is not smaller than the input (%d bytes): the factors hold "
                    + "more numbers than the dense kernels; use fewer --atoms, a wider --share or --target-size F (--strict makes "
                    + "this an error)", bytesAfter, bytesBefore));
        }
        String what = "use more --atoms or a narrower --share"
                + (fineTuned ? ", or fine-tune longer" : ", or fine-tune it (--train-data SPEC)");
        if (validation != null) {
            String original = validation.labels()
                    ? OriginalAccuracy.warning(validation.originalTop1(), validation.samples(), "evaluation") : null;
            if (original != null) {
                warnings.add(original);
            }
            String line = Double.isNaN(validation.drop())
                    ? String.format("agreement %.1f %% with the original, %s", 100 * validation.agreement(), size)
                    : String.format("top-1 %+.1f points, %s", -validation.drop(), size);
            if (validation.agreement() < LOW_AGREEMENT) {
                warnings.add(String.format("the compressed model agrees with the original on only %.1f %% of the %d "
                        + "evaluation images: %s", 100 * validation.agreement(), validation.samples(), what));
            }
            return new Verdict(line, warnings);
        }
        if (fineTuned) {
            // the output fit's agreement describes the model before fine-tuning: no figure for this one
            return new Verdict("not validated (no --eval-data): fine-tuned, accuracy unknown, " + size, warnings);
        }
        if (outputFit != null) {
            double a = outputFit.agreementOutputFit();
            int images = outputFit.calibration() == null ? 0 : outputFit.calibration().images();
            if (a < LOW_AGREEMENT) {
                warnings.add(String.format("the compressed model agrees with the original on only %.1f %% of the %d "
                        + "calibration images: %s", 100 * a, images, what));
            }
            return new Verdict(String.format("not validated (no --eval-data): agrees with the original on %.1f %% of "
                    + "the calibration images, %s", 100 * a, size), warnings);
        }
        warnings.add("fitted to the weights alone and not validated: an SVD fit without data usually loses most of "
                + "a pretrained network's accuracy (ResNet-20 --share=layer keeps 15 % top-1); give --train-data SPEC "
                + "to fine-tune, or at least --calibration-data SPEC, and --eval-data SPEC to measure it");
        return new Verdict("not validated: accuracy unknown (give --eval-data SPEC), " + size, warnings);
    }

    /**
     * The verdict of comparing two models on data ({@code acdc validate}): the drop (or agreement), the
     * agreement and the size ratio in one line, with the warnings that apply to any pair of models (the
     * original mostly wrong on these data, low agreement).
     */
    public static Verdict ofComparison(long bytesOriginal, long bytesCandidate, ValidationResult v) {
        List<String> warnings = new ArrayList<>();
        double ratio = (double) bytesOriginal / Math.max(1, bytesCandidate);
        String size = bytesCandidate < bytesOriginal ? String.format(java.util.Locale.ROOT, "%.1fx smaller", ratio)
                : bytesCandidate == bytesOriginal ? "the same size"
                : String.format(java.util.Locale.ROOT, "%.2fx the original's size", 1 / ratio);
        String original = v.labels() ? OriginalAccuracy.warning(v.originalTop1(), v.samples(), "evaluation") : null;
        if (original != null) {
            warnings.add(original);
        }
        if (v.agreement() < LOW_AGREEMENT) {
            warnings.add(String.format("the candidate agrees with the original on only %.1f %% of the %d images",
                    100 * v.agreement(), v.samples()));
        }
        String line = Double.isNaN(v.drop())
                ? String.format("agreement %.1f %% with the original, %s", 100 * v.agreement(), size)
                : String.format(java.util.Locale.ROOT, "top-1 %+.1f points, agreement %.1f %%, %s",
                        Math.abs(v.drop()) < 0.05 ? 0.0 : -v.drop(), 100 * v.agreement(), size);
        return new Verdict(line, warnings);
    }

    /**
     * The verdict of a fine-tune ({@code teacher}) or a training run: the validation against the teacher
     * where there is one, else the kept epoch's top-1 on the evaluation data, else "not validated".
     */
    public static String ofTraining(FineTuneSection run, ValidationResult validation, boolean teacher) {
        String kept = "kept epoch " + run.bestEpoch() + " (" + run.keptEpochChosenBy() + ")";
        if (validation != null && validation.labels()) {
            return String.format("top-1 %.2f %% (%+.1f points against the teacher), %s", 100 * validation.candidateTop1(),
                    -validation.drop(), kept);
        }
        if (validation != null) {
            return String.format("agreement %.1f %% with the teacher, %s", 100 * validation.agreement(), kept);
        }
        Double top1 = run.keptEvalTop1();
        if (top1 != null) {
            return String.format("top-1 %.2f %% on the evaluation data, %s", 100 * top1, kept);
        }
        return "not validated (no --eval-data): accuracy unknown, " + kept + (teacher ? "" : ", trained on labels");
    }
}
