package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testdata.TinyResNet;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.acdc.cli.CliTest.assertOneLineError;
import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FinetuneCliTest {
    @TempDir
    Path tmp;

    private Path cifar(String name, int records) throws Exception {
        return CliTest.cifar(tmp.resolve(name), records, records);
    }

    @Test
    void compressThenFinetune() throws Exception {
        Path teacher = tmp.resolve("tiny.onnx");
        OnnxModels.save(TinyResNet.build(3), teacher, null);
        Path student = tmp.resolve("tiny.acdc.onnx");
        assertEquals(0, run("compress", teacher.toString(), "-o", student.toString()).code());
        Path train = cifar("train.bin", 48);
        Path eval = cifar("eval.bin", 20);
        Path out = tmp.resolve("ft.onnx");
        CliTest.Run r = run("finetune", student.toString(), "--teacher", teacher.toString(), "--train-data",
                "cifar10:" + train, "--eval-data", "cifar10:" + eval, "--epochs", "2", "--batch", "16", "-o", out.toString(),
                "--checkpoint", tmp.resolve("ck").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("ND4J backend"), r.err());
        var j = Json.mapper().readTree(tmp.resolve("ft.report.json").toFile());
        assertEquals(2, j.get("finetune").get("epochs").size());
        assertEquals(6, j.get("finetune").get("steps").asInt());
        assertTrue(j.get("consistency").get("maxAbsLogitDiff").asDouble() <= 1e-3);
        assertTrue(j.has("validation"));
        assertTrue(Files.exists(tmp.resolve("ck/acdc-checkpoint-state.json")));
        // the same three reports as compress: Markdown and HTML with the per-epoch table and the check
        String md = Files.readString(tmp.resolve("ft.report.md"));
        assertTrue(md.startsWith("# acdc fine-tuning report"), md);
        assertTrue(md.contains("| epoch | mean loss | selection top-1 | eval top-1 (reported only) | seconds |"), md);
        assertEquals(2, md.lines().filter(l -> l.matches("\\| [12]( \\(kept\\))? \\|.*")).count(), md);
        assertTrue(md.contains("Write-back check") && md.contains("## Validation"), md);
        String html = Files.readString(tmp.resolve("ft.report.html"));
        assertTrue(html.contains("<h1>acdc fine-tuning report</h1>"), "HTML from the same Markdown");
        assertTrue(java.util.regex.Pattern.compile("\"epochs\"\\s*:\\s*\\[\\s*1\\s*,\\s*2\\s*\\]").matcher(html).find(),
                "the chart data hold the fine-tuning curve");
        // the output keeps the compact structure
        assertTrue(dev.acdc.decompose.WeightRoles.of(OnnxModels.load(out)).containsValue(
                dev.acdc.decompose.WeightRoles.Role.COEFFICIENTS));
        assertTrue(OnnxModels.load(out).graph().nodes().stream().anyMatch(n -> n.is("MatMul")), "kernels computed");
        var report = (dev.acdc.report.TrainingReport) ReportSchemaTest.assertRoundTrips(tmp.resolve("ft.report.json"));
        assertEquals(2, report.finetune().epochs().size());
        assertEquals(teacher.toString(), report.teacher());
    }

    /**
     * A channels-last model (tf2onnx's Keras layout: [N,H,W,C] and a Transpose) compresses and fine-tunes with
     * {@code --layout nhwc}: its batches are built channels-last and augmented as images, not as NCHW planes.
     */
    @Test
    void aChannelsLastModelFineTunes() throws Exception {
        Path teacher = tmp.resolve("nhwc.onnx");
        OnnxModels.save(ModelGenerators.residualChannelsLast(3, 32, 8, 10, 5), teacher, null);
        Path train = cifar("train.bin", 48);
        Path out = tmp.resolve("nhwc.acdc.onnx");
        CliTest.Run r = run("compress", teacher.toString(), "--train-data", "cifar10:" + train, "--layout", "nhwc",
                "--epochs", "1", "--batch", "16", "--calibration-images", "16", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        var j = Json.mapper().readTree(tmp.resolve("nhwc.acdc.report.json").toFile());
        assertEquals(1, j.get("finetune").get("epochs").size(), j.toString());
        assertTrue(j.get("consistency").get("maxAbsLogitDiff").asDouble() <= 1e-3);
        Path ft = tmp.resolve("ft.onnx");
        r = run("finetune", out.toString(), "--teacher", teacher.toString(), "--train-data", "cifar10:" + train,
                "--layout", "nhwc", "--epochs", "1", "--batch", "16", "-o", ft.toString());
        assertEquals(0, r.code(), r.err());
    }

    /** The selection split is a seeded, class-stratified hold-out, disjoint from the images that train. */
    @Test
    void selectionSplitIsStratifiedAndDisjointFromTraining() throws Exception {
        Path data = cifar("pool.bin", 200); // labels 0..9 in turn
        try (dev.acdc.data.Dataset d = dev.acdc.data.DataSpec.open("cifar10:" + data)) {
            dev.acdc.runtime.workflow.FineTuneJob.Split s = dev.acdc.runtime.workflow.FineTuneJob.split(d, 0.1, 3);
            int[] train = ((dev.acdc.data.SubsetDataset) s.train()).indices();
            int[] held = ((dev.acdc.data.SubsetDataset) s.select()).indices();
            assertEquals(20, held.length);
            assertEquals(180, train.length);
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int i : train) {
                seen.add(i);
            }
            int[] perClass = new int[10];
            for (int i : held) {
                assertTrue(seen.add(i), "image " + i + " is both held out and trained on");
                perClass[i % 10]++;
            }
            assertEquals(200, seen.size(), "every image is used once");
            for (int c = 0; c < 10; c++) {
                assertEquals(2, perClass[c], "class " + c + " keeps its share of the hold-out");
            }
            // seeded: the same seed gives the same split, another seed another one
            assertTrue(java.util.Arrays.equals(held, ((dev.acdc.data.SubsetDataset) dev.acdc.runtime.workflow.FineTuneJob.split(d, 0.1, 3).select()).indices()));
            assertTrue(!java.util.Arrays.equals(held, ((dev.acdc.data.SubsetDataset) dev.acdc.runtime.workflow.FineTuneJob.split(d, 0.1, 4).select()).indices()));
            assertEquals(null, dev.acdc.runtime.workflow.FineTuneJob.split(d, 0, 3).select(), "--select-split 0: no hold-out");
        }
    }

    /** --limit samples each data set apart, stratified; the counts used are printed and reported. */
    @Test
    void limitsAreStratifiedSamplesAndTheCountsArePrinted() throws Exception {
        Path teacher = tmp.resolve("tiny.onnx");
        OnnxModels.save(TinyResNet.build(3), teacher, null);
        Path student = tmp.resolve("tiny.acdc.onnx");
        assertEquals(0, run("compress", teacher.toString(), "-o", student.toString()).code());
        Path train = cifar("train.bin", 120);
        Path eval = cifar("eval.bin", 60);
        Path out = tmp.resolve("ft.onnx");
        CliTest.Run r = run("finetune", student.toString(), "--teacher", teacher.toString(), "--train-data",
                "cifar10:" + train, "--eval-data", "cifar10:" + eval, "--epochs", "2", "--batch", "16", "-o",
                out.toString(), "--train-limit", "80", "--limit", "30", "--select-split", "0.25");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("training data: 60 images: 80 of cifar10: train.bin (120 images), a class-stratified "
                + "sample (seed 1), less the selection split"), r.err());
        assertTrue(r.err().contains("selection split: 20 images, stratified over 10 classes (2 each)"), r.err());
        assertTrue(r.err().contains("30 of cifar10: eval.bin (60 images), a class-stratified sample (seed 1)"), r.err());
        var ft = Json.mapper().readTree(tmp.resolve("ft.report.json").toFile()).get("finetune");
        assertEquals(60, ft.get("trainImages").asInt());
        assertEquals(20, ft.get("selectionImages").asInt());
        assertEquals(30, ft.get("evalImages").asInt());
        assertEquals("selection split", ft.get("keptEpochChosenBy").asText());
        for (var e : ft.get("epochs")) {
            assertTrue(e.get("selectTop1").isNumber() && e.get("evalTop1").isNumber(), e.toString());
        }
        assertEquals(8, ft.get("steps").asInt(), "60 training images, batch 16: 4 steps per epoch");
    }

    /**
     * Whether this JVM was started with SIGINT ignored (a background job of a shell without job control, e.g.
     * {@code (mvn verify &)}): the JVM then installs no handler for it and drops a raised one (JVM_RaiseSignal), so
     * no Ctrl-C can reach a run. Linux's /proc/self/status says so (bit 2 of SigIgn).
     */
    static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 0x2) != 0;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux: assume the signal is delivered
        }
        return false;
    }

    /** A real SIGINT during a fine-tune: checkpoint, exit status 130, and --resume finishes the run. */
    @Test
    void ctrlCSavesACheckpointAndResumeFinishes() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(sigintIgnored(), "skipped: this JVM was started with SIGINT "
                + "ignored (a background job of a shell without job control), so no Ctrl-C can reach it; run the "
                + "tests in the foreground (or under timeout(1), which restores the signal)");
        Path teacher = tmp.resolve("tiny.onnx");
        OnnxModels.save(TinyResNet.build(3), teacher, null);
        Path student = tmp.resolve("tiny.acdc.onnx");
        assertEquals(0, run("compress", teacher.toString(), "-o", student.toString()).code());
        Path train = cifar("train.bin", 64);
        Path out = tmp.resolve("ft.onnx");
        String[] args = {"finetune", student.toString(), "--teacher", teacher.toString(), "--train-data",
            "cifar10:" + train, "--epochs", "400", "--batch", "16", "--schedule", "constant", "-o", out.toString()};
        // the run in a thread of this JVM; a real SIGINT raised at this process once it is training
        java.io.StringWriter errText = new java.io.StringWriter();
        java.io.PrintWriter errOut = new java.io.PrintWriter(errText, true);
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> Main.run(new java.io.PrintWriter(new java.io.StringWriter(), true), errOut, args));
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!errText.toString().contains(" step ") && !code.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(!code.isDone(), "the run ended before it could be interrupted: " + errText);
        Class<?> signal = Class.forName("sun.misc.Signal");
        signal.getMethod("raise", signal).invoke(null, signal.getConstructor(String.class).newInstance("INT"));
        assertEquals(130, code.get(120, java.util.concurrent.TimeUnit.SECONDS), errText.toString());
        String log = errText.toString();
        Path ck = tmp.resolve("ft.checkpoint");
        assertTrue(log.contains("acdc: Ctrl-C: stopping after this step"), log);
        assertTrue(log.contains("acdc: interrupted after step "), log);
        assertTrue(log.toString().contains("checkpoint in " + ck + " (continue with --resume --checkpoint " + ck + ")"),
                log.toString());
        assertTrue(Files.exists(ck.resolve("acdc-checkpoint-state.json")) && Files.exists(ck.resolve("acdc-checkpoint-model.onnx")), log.toString());
        assertTrue(!Files.exists(out), "no output from an interrupted run");
        var state = Json.mapper().readTree(ck.resolve("acdc-checkpoint-state.json").toFile());
        int done = state.get("step").asInt();
        assertTrue(done >= 1 && done < 1600, state.toString());
        // the same command plus --resume; --max-steps (with a constant schedule) makes it end soon
        java.util.List<String> resume = new java.util.ArrayList<>(java.util.List.of(args));
        resume.addAll(java.util.List.of("--resume", "--checkpoint", ck.toString(), "--max-steps",
                Integer.toString(done + 5)));
        CliTest.Run r = run(resume.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals(done + 5, Json.mapper().readTree(tmp.resolve("ft.report.json").toFile()).get("finetune")
                .get("steps").asInt());
        assertTrue(Files.exists(out));
    }

    /** acdc train: labels only, from the weights the file holds; the demo network's data path (IDX subsets). */
    @Test
    void trainFromLabelsAndIdxSubsets() throws Exception {
        Path init = tmp.resolve("fm.onnx");
        assertEquals(0, run("make-testdata", "--model", "fmnist-resnet14", init.toString()).code());
        // a grey IDX data set: 40 random images, written by make-testdata --idx-subset from a bigger one
        byte[] img = new byte[16 + 60 * 28 * 28];
        java.nio.ByteBuffer.wrap(img).putInt(0x803).putInt(60).putInt(28).putInt(28);
        byte[] pixels = new byte[60 * 28 * 28];
        new Random(4).nextBytes(pixels);
        System.arraycopy(pixels, 0, img, 16, pixels.length);
        byte[] lab = new byte[8 + 60];
        java.nio.ByteBuffer.wrap(lab).putInt(0x801).putInt(60);
        for (int i = 0; i < 60; i++) {
            lab[8 + i] = (byte) (i % 10);
        }
        Path images = Files.write(tmp.resolve("all-images"), img);
        Path labels = Files.write(tmp.resolve("all-labels"), lab);
        CliTest.Run sub = run("make-testdata", "--idx-subset", images + "," + labels, "--count", "40",
                tmp.resolve("sub").toString());
        assertEquals(0, sub.code(), sub.err());
        String spec = "idx:" + tmp.resolve("sub-images-idx3-ubyte.gz") + "," + tmp.resolve("sub-labels-idx1-ubyte.gz");
        try (var d = dev.acdc.data.DataSpec.open(spec)) {
            assertEquals(40, d.size());
            byte[] px = new byte[28 * 28];
            int[] y = new int[1];
            d.read(39, 1, px, y);
            assertEquals(9, y[0]);
            assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(img, 16 + 39 * 784, 16 + 40 * 784)),
                    java.util.Arrays.toString(px));
        }
        Path out = tmp.resolve("fm.trained.onnx");
        CliTest.Run r = run("train", init.toString(), "--train-data", spec, "--eval-data", spec, "--epochs", "2",
                "--batch", "20", "--batch-norm", "train", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("training (cross-entropy on labels)"), r.err());
        var j = Json.mapper().readTree(tmp.resolve("fm.trained.report.json").toFile());
        assertEquals(4, j.get("training").get("steps").asInt());
        // the verdict: the kept epoch's top-1 on the evaluation data, in the report and on the console
        int kept = j.get("training").get("bestEpoch").asInt();
        double top1 = j.get("training").get("epochs").get(kept - 1).get("evalTop1").asDouble();
        String verdict = String.format("top-1 %.2f %% on the evaluation data, kept epoch %d (%s)", 100 * top1, kept,
                j.get("training").get("keptEpochChosenBy").asText());
        assertEquals(verdict, j.get("verdict").asText());
        assertTrue(r.out().contains("verdict: " + verdict), r.out());
        assertTrue(j.get("consistency").get("maxAbsLogitDiff").asDouble() <= 1e-3);
        var report = (dev.acdc.report.TrainingReport) ReportSchemaTest.assertRoundTrips(
                tmp.resolve("fm.trained.report.json"));
        assertEquals("train", report.kind());
        assertEquals(verdict, report.verdict());
        assertTrue(OnnxModels.load(out).graph().nodes().stream().noneMatch(n -> n.is("BatchNormalization")),
                "the training BNs are folded into the convolutions");
        // no labels, no training
        assertOneLineError(run("train", init.toString(), "--train-data", "idx:" + tmp.resolve("sub-images-idx3-ubyte.gz")),
                2, "training without a teacher needs labels");
    }

    @Test
    void teacherAndStudentMustFitEachOther() throws Exception {
        Path student = tmp.resolve("s.onnx");
        OnnxModels.save(TinyResNet.build(3), student, null);
        Path teacher = tmp.resolve("t.onnx");
        OnnxModels.save(ModelGenerators.residual(1, 8, 4, 10, 1), teacher, null);
        Path train = cifar("train.bin", 8);
        assertOneLineError(run("finetune", student.toString(), "--teacher", teacher.toString(), "--train-data",
                "cifar10:" + train), 2, "teacher input");
        assertOneLineError(run("finetune", student.toString(), "--teacher", student.toString(), "--train-data",
                "cifar10:" + Files.write(tmp.resolve("empty.bin"), new byte[0])), 2, "0 bytes");
        assertOneLineError(run("finetune", student.toString(), "--teacher", student.toString(), "--train-data",
                "cifar10:" + train, "--resume"), 2, "--resume needs --checkpoint");
        assertOneLineError(run("finetune", student.toString(), "--teacher", student.toString(), "--train-data",
                "cifar10:" + train, "--lr", "0"), 2, "--lr must be positive");
    }
}
