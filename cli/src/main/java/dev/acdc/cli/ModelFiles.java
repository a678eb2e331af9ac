package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.util.Json;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Where the commands' outputs go and how a model file is read and written (verified, atomic, staged). */
final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * Writes {@code m} (whose serialized form is {@code bytes}) atomically to {@code out}, reading the file
     * back in ONNX Runtime on a probe batch of {@code probeShape} (null: the model's input, batch 2) before
     * it takes its name; never over {@code protect}.
     */
    static void saveVerified(Model m, byte[] bytes, Path out, Path protect, long[] probeShape, PrintWriter err) {
        long[] shape = probeShape;
        if (shape == null) {
            shape = ModelSummary.of(m, null, bytes.length).inputShape().clone();
            shape[0] = Math.max(shape[0], 2);
        }
        OnnxModels.save(m, out, protect,
                dev.acdc.runtime.WrittenModelCheck.against(bytes, shape, Interrupts.progress(err)));
    }

    /**
     * As {@link #saveVerified(Model, byte[], Path, Path, long[], PrintWriter)}, with the training report
     * {@code json} as JSON, Markdown and HTML: all are staged and take their names together, so a failure
     * leaves a previous model and reports as they were.
     */
    static void saveVerified(Model m, byte[] bytes, Path out, Path protect, PrintWriter err, Outputs outs,
                             Map<String, Object> json) {
        long[] shape = ModelSummary.of(m, null, bytes.length).inputShape().clone();
        shape[0] = Math.max(shape[0], 2);
        try (dev.acdc.onnx.AtomicFiles.Staged staged = new dev.acdc.onnx.AtomicFiles.Staged()) {
            staged.stage(out, bytes, protect,
                    dev.acdc.runtime.WrittenModelCheck.against(bytes, shape, Interrupts.progress(err)));
            staged.stage(outs.report(), Json.write(json) + "\n");
            staged.stage(outs.markdown(), dev.acdc.report.MarkdownReport.renderTraining(json));
            staged.stage(outs.html(), dev.acdc.report.HtmlReport.renderTraining(json));
            Interrupts.checkpoint(); // the last safe point: after it every output is renamed into place
            staged.commit();
        }
    }

    /** {@code file} with its {@code ending} (e.g. ".json") replaced by {@code suffix}. */
    static Path siblingWithSuffix(Path file, String suffix, String ending) {
        String name = file.getFileName().toString();
        String base = name.endsWith(ending) ? name.substring(0, name.length() - ending.length()) : name;
        return file.resolveSibling(base + suffix);
    }

    static Path siblingWithSuffix(Path onnx, String suffix) {
        return siblingWithSuffix(onnx, suffix, ".onnx");
    }

    /**
     * Where a command writes its model and reports ({@code report} null: beside the model, as
     * {@code .report.json}, with {@code .report.md} and {@code .report.html} beside it); every path is
     * checked by {@code guard} before any work (folder exists; none is an input or another output).
     */
    record Outputs(Path model, Path report, Path markdown, Path html) {
        static Outputs of(OutputGuard guard, Path model, Path report) {
            Path rep = report != null ? report : siblingWithSuffix(model, ".report.json");
            return new Outputs(guard.writes(model), guard.writes(rep), guard.writes(siblingWithSuffix(rep, ".md", ".json")),
                    guard.writes(siblingWithSuffix(rep, ".html", ".json")));
        }
    }

    static void checkFolder(Path p) {
        Path dir = p.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new AcdcException("output folder does not exist: " + (dir == null ? p : dir));
        }
    }

    /** A model file's bytes for an ONNX Runtime session: external data, if any, read from its folder. */
    static byte[] readAll(Path p) {
        return OnnxModels.runtimeBytes(p);
    }
}
