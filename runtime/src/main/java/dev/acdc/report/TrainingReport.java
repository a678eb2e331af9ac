package dev.acdc.report;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * The report of {@code acdc finetune} (kind finetune: a student distilled from {@code teacher}, its run
 * in {@code finetune}) or {@code acdc train} (kind train: trained on labels, its run in {@code training}):
 * the models, the run, the write-back check, the validation against the teacher, and the verdict.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingReport(int schemaVersion, String kind, ReportSchema.Provenance acdc, String input, String output,
                             String teacher, FineTuneSection finetune, FineTuneSection training,
                             Consistency consistency, ValidationSection validation, String verdict) implements Report {
    public TrainingReport {
        if (!kind.equals("finetune") && !kind.equals("train")) {
            throw new IllegalArgumentException("a training report has kind finetune or train, not " + kind);
        }
        Objects.requireNonNull(kind.equals("finetune") ? finetune : training, "the run's section");
        Objects.requireNonNull(consistency, "consistency");
        Objects.requireNonNull(verdict, "verdict");
    }

    /** acdc finetune's report. */
    public static TrainingReport finetune(ReportSchema.Provenance acdc, String input, String output, String teacher,
                                          FineTuneSection run, Consistency consistency, ValidationSection validation,
                                          String verdict) {
        return new TrainingReport(ReportSchema.VERSION, "finetune", acdc, input, output, teacher, run, null,
                consistency, validation, verdict);
    }

    /** acdc train's report. */
    public static TrainingReport train(ReportSchema.Provenance acdc, String input, String output, FineTuneSection run,
                                       Consistency consistency, String verdict) {
        return new TrainingReport(ReportSchema.VERSION, "train", acdc, input, output, null, null, run, consistency,
                null, verdict);
    }

    /** The run: the fine-tune, or the training. */
    @JsonIgnore
    public FineTuneSection run() {
        return finetune != null ? finetune : training;
    }
}
