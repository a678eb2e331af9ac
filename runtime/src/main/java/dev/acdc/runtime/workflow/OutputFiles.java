package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.Report;
import dev.acdc.report.ReportSchema;
import dev.acdc.runtime.WrittenModelCheck;
import dev.acdc.util.AtomicFiles;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the jobs' outputs go and how a model file is read and written: every write is verified (the
 * file read back in ONNX Runtime) and atomic, and a model with its reports is staged so that all take
 * their names together. Which paths may be written at all is {@link OutputGuard}'s rule.
 */
public final class OutputFiles {
    private OutputFiles() {
    }

    /**
     * Where a job writes its model and reports ({@code report} null: beside the model, as
     * {@code .report.json}, with {@code .report.md} and {@code .report.html} beside it); every path is
     * checked by {@code guard} before any work (folder exists; none is an input or another output). A
     * {@code report} named like a page (.html, .htm, .md) is refused: it names the JSON.
     */
    public record Outputs(Path model, Path report, Path markdown, Path html) {
        public static Outputs of(OutputGuard guard, Path model, Path report) {
            if (report != null) {
                String name = report.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                if (name.endsWith(".html") || name.endsWith(".htm") || name.endsWith(".md")) {
                    // the JSON would land in a file named as a page, with "x.html.md" and "x.html.html" beside it
                    throw new AcdcException("--report names the JSON report (FILE.json; its .md and .html are written "
                            + "beside it), not " + report.getFileName());
                }
            }
            Path rep = report != null ? report : siblingWithSuffix(model, ".report.json");
            return new Outputs(guard.writes(model), guard.writes(rep), guard.writes(siblingWithSuffix(rep, ".md", ".json")),
                    guard.writes(siblingWithSuffix(rep, ".html", ".json")));
        }

        /**
         * Checks these outputs once more against {@code inputs} (and each other), for a job whose request
         * may have been built by a caller that never ran them through a guard.
         */
        public void checkAgainst(Path... inputs) {
            OutputGuard guard = new OutputGuard().reads(inputs);
            for (Path p : java.util.List.of(model, report, markdown, html)) {
                guard.writes(p);
            }
        }
    }

    /** The default output of compressing {@code model}: {@code MODEL.acdc.onnx} beside it. */
    public static Path compressedName(Path model) {
        return siblingWithSuffix(model, ".acdc.onnx");
    }

    /** {@code file} with its {@code ending} (e.g. ".json") replaced by {@code suffix}. */
    public static Path siblingWithSuffix(Path file, String suffix, String ending) {
        String name = file.getFileName().toString();
        String base = name.endsWith(ending) ? name.substring(0, name.length() - ending.length()) : name;
        return file.resolveSibling(base + suffix);
    }

    public static Path siblingWithSuffix(Path onnx, String suffix) {
        return siblingWithSuffix(onnx, suffix, ".onnx");
    }

    static void checkFolder(Path p) {
        Path dir = p.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new AcdcException("output folder does not exist: " + (dir == null ? p : dir));
        }
    }

    /** A model file's bytes for an ONNX Runtime session: external data, if any, read from its folder. */
    public static byte[] readAll(Path p) {
        return OnnxModels.runtimeBytes(p);
    }

    /** The probe batch a written model is read back on: the model's input with a batch of at least 2. */
    public static long[] probeShape(Model m, int bytes) {
        long[] shape = ModelSummary.of(m, null, bytes).inputShape().clone();
        shape[0] = Math.max(shape[0], 2);
        return shape;
    }

    /**
     * Writes {@code m} (whose serialized form is {@code bytes}) atomically to {@code out}, reading the file
     * back in ONNX Runtime on a probe batch of {@code probeShape} (null: {@link #probeShape}) before
     * it takes its name; never over {@code protect}.
     */
    public static void saveVerified(Model m, byte[] bytes, Path out, Path protect, long[] probeShape,
                                    JobListener listener) {
        long[] shape = probeShape != null ? probeShape : probeShape(m, bytes.length);
        OnnxModels.save(m, out, protect, WrittenModelCheck.against(bytes, shape, checked(listener)));
    }

    /**
     * As {@link #saveVerified(Model, byte[], Path, Path, long[], JobListener)}, with {@code report} as JSON,
     * Markdown and HTML: all are staged and take their names together, so a failure leaves a previous model
     * and reports as they were.
     */
    public static void saveVerified(Model m, byte[] bytes, Path out, Path protect, JobListener listener, Outputs outs,
                                    Report report) {
        long[] shape = probeShape(m, bytes.length);
        try (AtomicFiles.Staged staged = new AtomicFiles.Staged()) {
            staged.stage(out, bytes, protect, WrittenModelCheck.against(bytes, shape, checked(listener)));
            stageReports(staged, outs, report);
            listener.checkpoint(); // the last safe point: after it every output is renamed into place
            staged.commit();
        }
    }

    /** Stages {@code report}'s JSON (checked against the schema), Markdown and HTML at their names in {@code outs}. */
    static void stageReports(AtomicFiles.Staged staged, Outputs outs, Report report) {
        staged.stage(outs.report(), ReportSchema.json(report));
        ReportSchema.Rendered rendered = ReportSchema.render(report);
        staged.stage(outs.markdown(), rendered.markdown());
        staged.stage(outs.html(), rendered.html());
    }

    /** The model's declared data input shape (as validate checks images against it), else the summary's. */
    static long[] declaredInput(Model m, ModelSummary s) {
        long[] declared = m.graph().dataInputs().isEmpty() ? null : m.graph().dataInputs().get(0).shape();
        return declared != null ? declared : s.inputShape();
    }

    /** The listener's notes, each a safe point. */
    static java.util.function.Consumer<String> checked(JobListener listener) {
        return line -> {
            listener.checkpoint();
            listener.note(line);
        };
    }
}
