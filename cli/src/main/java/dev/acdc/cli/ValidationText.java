package dev.acdc.cli;

import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;
import dev.acdc.util.Table;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Running a side-by-side validation with a progress bar, and its text table (validate, compress, finetune, quantize). */
final class ValidationText {
    private ValidationText() {
    }

    static Validator.Options options(DataOptions d) {
        return new Validator.Options(d.batchSize, d.sessions(), d.noLabels);
    }

    static ValidationResult run(byte[] a, byte[] b, Dataset ds, Preprocessing pre, DataOptions d, PrintWriter err) {
        ProgressBar bar = new ProgressBar(err, "validate");
        return Validator.validate(a, b, ds, pre, options(d), Interrupts.progress(err), bar::update);
    }

    static String render(ValidationResult r, String nameA, String nameB) {
        List<String> head = new ArrayList<>(List.of("", "samples"));
        if (r.labels()) {
            head.add("top-1 %");
            if (!Double.isNaN(r.originalTop5())) {
                head.add("top-5 %");
            }
        }
        Table t = new Table(head.toArray(new String[0]));
        for (int i = 0; i < 2; i++) {
            List<Object> row = new ArrayList<>(List.of(i == 0 ? "original  " + nameA : "candidate " + nameB, r.samples()));
            if (r.labels()) {
                row.add(String.format("%.2f", 100 * (i == 0 ? r.originalTop1() : r.candidateTop1())));
                if (!Double.isNaN(r.originalTop5())) {
                    row.add(String.format("%.2f", 100 * (i == 0 ? r.originalTop5() : r.candidateTop5())));
                }
            }
            t.row(row.toArray());
        }
        StringBuilder sb = new StringBuilder(t.toString());
        if (r.labels()) {
            sb.append(String.format("top-1 drop      %.2f points%n", r.drop()));
        }
        sb.append(String.format("agreement       %.2f %% of predictions%n", 100 * r.agreement()));
        sb.append(String.format("logit diff      max %.4g, mean %.4g%n", r.maxAbsDiff(), r.meanAbsDiff()));
        sb.append(String.format("provider        %s (%.1f s, %.0f img/s for both models)%n", r.provider(), r.seconds(),
                r.imagesPerSecond()));
        return sb.toString();
    }
}
