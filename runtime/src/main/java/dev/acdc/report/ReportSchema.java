package dev.acdc.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.acdc.AcdcException;
import dev.acdc.util.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * The contract of acdc's JSON reports: every report holds {@code schemaVersion}, its {@code kind}
 * (compress, finetune, train, quantize) and {@code acdc} (version, command line, date, preprocessing), and
 * holds the fields its kind requires, among them a one-line {@code verdict}. The {@link Report} records
 * are the schema; {@link #json} writes one, {@link #read} loads a saved report and refuses one that lacks a
 * required field, naming it; {@link #render} turns a report — in memory or read back — into its Markdown
 * and HTML.
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
     * Where a report comes from: the acdc version, the command line (or "Java API"), when, the
     * preprocessing its data went through ("none (no data read)" when it read none), and the command's
     * recipe: every setting of the run as {@code stage.name} → value, which {@code --recipe} reruns (a compression
     * built through the Java API records its request's, {@code RequestRecipe}; other Java API jobs none).
     */
    public record Provenance(String version, String command, String date, String preprocessing,
                             java.util.Map<String, String> recipe) {
        static final String NO_DATA = "none (no data read)";

        public Provenance {
            if (preprocessing == null) {
                preprocessing = NO_DATA;
            }
            recipe = recipe == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(recipe));
        }

        /** Now, with the version of this build. */
        public static Provenance of(String command, Object preprocessing) {
            String v = ReportSchema.class.getPackage().getImplementationVersion();
            return new Provenance(v == null ? "dev" : v, command,
                    OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).toString(),
                    preprocessing == null ? null : preprocessing.toString(), null);
        }

        public Provenance withPreprocessing(Object p) {
            return new Provenance(version, command, date, p == null ? null : p.toString(), recipe);
        }

        public Provenance withRecipe(java.util.Map<String, String> r) {
            return new Provenance(version, command, date, preprocessing, r);
        }
    }

    /** The JSON file's text of {@code report}, checked against the schema first. */
    @SuppressWarnings("unchecked")
    public static String json(Report report) {
        Map<String, Object> doc = Json.mapper().convertValue(report, Map.class);
        check(doc, "the " + report.kind() + " report");
        return Json.write(report) + "\n";
    }

    /** A saved report, checked (its schema version, its kind and every field that kind requires) and typed. */
    @SuppressWarnings("unchecked")
    public static Report read(Path file) {
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
        Class<? extends Report> type = switch ((String) doc.get("kind")) {
            case CompressReport.KIND -> CompressReport.class;
            case QuantizeReport.KIND -> QuantizeReport.class;
            default -> TrainingReport.class;
        };
        try {
            return Json.mapper().readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .readValue(text);
        } catch (JsonMappingException e) {
            throw new AcdcException("report " + file + ": field '" + path(e) + "' does not fit the schema (schema "
                    + VERSION + ", kind " + doc.get("kind") + "): " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new AcdcException("report " + file + " is not JSON: " + e.getOriginalMessage());
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
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

    public static Rendered render(Report report) {
        if (report instanceof CompressReport c) {
            return new Rendered(MarkdownReport.render(c), HtmlReport.render(c));
        }
        if (report instanceof QuantizeReport q) {
            return new Rendered(MarkdownReport.render(q), HtmlReport.render(q));
        }
        TrainingReport t = (TrainingReport) report;
        return new Rendered(MarkdownReport.render(t), HtmlReport.render(t));
    }
}
