package dev.acdc.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.acdc.AcdcException;
import dev.acdc.util.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contract of acdc's JSON reports: every report holds {@code schemaVersion}, its {@code kind}
 * (compress, finetune, train, quantize) and {@code acdc} (version, command line, date, preprocessing), and
 * holds the fields its kind requires, among them a one-line {@code verdict}. {@link #read} loads a saved
 * report and refuses one that lacks a required field, naming it; {@link #render} turns a report —
 * in memory or read back — into its Markdown and HTML.
 */
public final class ReportSchema {
    /** Bumped when a required field is renamed or removed, or changes its meaning. */
    public static final int VERSION = 1;

    /** Fields every report of a kind must hold (dotted paths into nested objects). */
    static final Map<String, List<String>> REQUIRED = Map.of(
            "compress", List.of("input.params", "input.bytes", "output.params", "output.bytes", "settings.share",
                    "convs", "sets", "totals.byteRatio", "notes", "timings", "verification", "verdict"),
            "finetune", List.of("input", "output", "teacher", "finetune.epochs", "finetune.bestEpoch", "consistency",
                    "verdict"),
            "train", List.of("input", "output", "training.epochs", "training.bestEpoch", "consistency", "verdict"),
            "quantize", List.of("input", "output", "inputBytes", "outputBytes", "quantization", "verification",
                    "verdict"));

    private static final List<String> HEADER = List.of("schemaVersion", "kind", "acdc.version", "acdc.command",
            "acdc.date", "acdc.preprocessing");

    private ReportSchema() {
    }

    /**
     * Where a report comes from: the acdc version, the command line (or "Java API"), when, and the
     * preprocessing its data went through (null: none read).
     */
    public record Provenance(String version, String command, String date, String preprocessing) {
        /** Now, with the version of this build. */
        public static Provenance of(String command, Object preprocessing) {
            String v = ReportSchema.class.getPackage().getImplementationVersion();
            return new Provenance(v == null ? "dev" : v, command,
                    OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).toString(),
                    preprocessing == null ? null : preprocessing.toString());
        }

        public Provenance withPreprocessing(Object p) {
            return new Provenance(version, command, date, p == null ? null : p.toString());
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("version", version);
            m.put("command", command);
            m.put("date", date);
            m.put("preprocessing", preprocessing == null ? "none (no data read)" : preprocessing);
            return m;
        }
    }

    /** The report {@code body} of {@code kind} with the header in front; checked against the schema. */
    public static Map<String, Object> stamp(String kind, Provenance p, Map<String, Object> body) {
        if (!REQUIRED.containsKey(kind)) {
            throw new IllegalArgumentException("unknown report kind " + kind);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schemaVersion", VERSION);
        doc.put("kind", kind);
        doc.put("acdc", p.json());
        for (Map.Entry<String, Object> e : body.entrySet()) {
            if (!doc.containsKey(e.getKey())) {
                doc.put(e.getKey(), e.getValue());
            }
        }
        check(doc, "the " + kind + " report");
        return doc;
    }

    /** A saved report, checked: its schema version, its kind and every field that kind requires. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new AcdcException("report not found: " + file);
        } catch (IOException e) {
            throw new AcdcException("cannot read report " + file + ": " + e.getMessage());
        }
        Object parsed;
        try {
            parsed = Json.mapper().readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new AcdcException("report " + file + " is not JSON: " + e.getOriginalMessage());
        }
        if (!(parsed instanceof Map)) {
            throw new AcdcException("report " + file + " is not a JSON object");
        }
        Map<String, Object> doc = (Map<String, Object>) parsed;
        check(doc, "report " + file);
        return doc;
    }

    /** Throws, naming the first missing field, unless {@code doc} meets the schema. */
    static void check(Map<String, Object> doc, String what) {
        Object v = doc.get("schemaVersion");
        if (!(v instanceof Number)) {
            throw new AcdcException(what + " lacks the required field 'schemaVersion' (written by an acdc before "
                    + "reports had a schema?)");
        }
        if (((Number) v).intValue() != VERSION) {
            throw new AcdcException(what + " has schema version " + v + "; this acdc reads version " + VERSION);
        }
        Object kind = doc.get("kind");
        if (!(kind instanceof String k) || !REQUIRED.containsKey(k)) {
            throw new AcdcException(what + ": field 'kind' must be one of " + REQUIRED.keySet() + ", got " + kind);
        }
        for (List<String> fields : List.of(HEADER, REQUIRED.get(kind))) {
            for (String f : fields) {
                if (!has(doc, f)) {
                    throw new AcdcException(what + " lacks the required field '" + f + "' (schema " + VERSION
                            + ", kind " + kind + ")");
                }
            }
        }
    }

    private static boolean has(Map<String, Object> doc, String path) {
        Object at = doc;
        for (String part : path.split("\\.")) {
            if (!(at instanceof Map<?, ?> m) || !m.containsKey(part)) {
                return false;
            }
            at = m.get(part);
        }
        return true;
    }

    /** The Markdown and HTML of a report (in memory or {@link #read} back), by its kind. */
    public record Rendered(String markdown, String html) {
    }

    public static Rendered render(Map<String, Object> doc) {
        check(doc, "the report");
        return switch ((String) doc.get("kind")) {
            case "compress" -> new Rendered(MarkdownReport.render(doc), HtmlReport.render(doc));
            case "quantize" -> new Rendered(MarkdownReport.renderQuantization(doc), HtmlReport.renderQuantization(doc));
            default -> new Rendered(MarkdownReport.renderTraining(doc), HtmlReport.renderTraining(doc));
        };
    }
}
