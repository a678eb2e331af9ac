package dev.acdc.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.acdc.util.Text;

import java.util.List;
import java.util.Locale;

/**
 * Block recovery: its settings (the {@code --recovery} spec), the memory cap of the activations it holds, each segment's held-out error before and after
 * (and whether the trained weights were kept), the network's top-1 agreement with the original on the
 * calibration images before and after, all of them and the held-out ones, the distillation loss (KL from the
 * original's outputs) on the held-out ones, by which the stage's guard decides, and its time. {@code skipped} says
 * why it did not run or was undone (null when it ran and was kept); the agreements are null when it did not run.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RecoverySection(String settings, int holdoutEvery, long memoryCapBytes, List<Segment> segments,
                              Double agreementBefore,
                              Double agreementAfter, Double heldOutBefore, Double heldOutAfter, Double heldOutLossBefore,
                              Double heldOutLossAfter, String skipped, double seconds) {
    public RecoverySection {
        segments = List.copyOf(segments);
        heldOutLossBefore = finite(heldOutLossBefore);
        heldOutLossAfter = finite(heldOutLossAfter);
        agreementBefore = finite(agreementBefore);
        agreementAfter = finite(agreementAfter);
        heldOutBefore = finite(heldOutBefore);
        heldOutAfter = finite(heldOutAfter);
    }

    /** "78.1 %", or "–" where there is no value (a model whose output is not one tensor). */
    private static String pct(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    private static String loss(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static Double finite(Double v) {
        return v == null || !Double.isFinite(v) ? null : v;
    }

    /** One segment: the values it runs between, its convs, the images it trained on, its held-out error. */
    public record Segment(String input, String output, int convs, int images, double errorBefore, double errorAfter,
                          boolean kept, double seconds) {
    }

    /** Whether the stage trained any segment. */
    boolean ran() {
        return !segments.isEmpty();
    }

    /** The stage's row in the report's stage table. */
    String outcome() {
        if (!ran()) {
            return skipped == null ? "nothing to recover" : skipped;
        }
        String line = String.format(Locale.ROOT, "top-1 agreement with the original %s → **%s** on the "
                + "calibration images (held out: %s → %s)", pct(agreementBefore), pct(agreementAfter),
                pct(heldOutBefore), pct(heldOutAfter));
        return skipped == null ? line : line + "; " + skipped;
    }

    /** The section of the Markdown report. */
    void markdown(StringBuilder sb) {
        sb.append("\n## Block recovery\n\n").append("Settings: `").append(Text.markdownCell(settings)).append("`; ")
                .append(String.format(Locale.ROOT, "activations held in memory within %,d MiB; %.1f s.%n%n",
                        memoryCapBytes >> 20, seconds));
        if (!ran()) {
            sb.append(outcome()).append(".\n");
            return;
        }
        sb.append(String.format(Locale.ROOT, "Top-1 agreement with the original on the calibration images: "
                        + "%s → **%s**; on the 1 in %d held out, which no segment trained on: %s → %s "
                        + "(distillation loss, KL from the original's outputs: %s → %s).%n",
                pct(agreementBefore), pct(agreementAfter), holdoutEvery, pct(heldOutBefore), pct(heldOutAfter),
                loss(heldOutLossBefore), loss(heldOutLossAfter)));
        if (skipped != null) {
            sb.append('\n').append(Text.markdownCell(skipped)).append(".\n");
        }
        sb.append("\n| segment | convs | images | held-out error before | after | kept | time |\n")
                .append("|---|---:|---:|---:|---:|---|---:|\n");
        for (Segment s : segments) {
            sb.append(String.format(Locale.ROOT, "| `%s` → `%s` | %d | %,d | %.4f | %.4f | %s | %.1f s |%n",
                    Text.markdownCell(s.input()), Text.markdownCell(s.output()), s.convs(), s.images(), s.errorBefore(),
                    s.errorAfter(), s.kept() ? "yes" : "no: not lowered, as fitted", s.seconds()));
        }
        sb.append("\n_held-out error_: ‖y − ŷ‖ / ‖y‖ of the segment's output against the original segment's, "
                + "on the images held out from its training.\n");
    }
}
