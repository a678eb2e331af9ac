package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line: output, exit codes, and one-line errors without stack traces. */
class CliTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    /** Numbers that are not numbers, or out of range, are refused before any work, naming the option. */
    @Test
    void numericOptionsAreChecked(@org.junit.jupiter.api.io.TempDir Path dir) {
        String m = dir.resolve("m.onnx").toString();
        dev.acdc.onnx.OnnxModels.save(dev.acdc.testing.ModelGenerators.residual(3, 8, 16, 5, 1), Path.of(m), null);
        String[][] cases = {
            {"--mean", "NaN", "--mean values must be finite numbers, got NaN"},
            {"--std", "Infinity", "--std values must be finite numbers above 0, got Infinity"},
            {"--std", "-0.2", "--std values must be finite numbers above 0"},
            {"--scale", "0", "--scale must be a finite number above 0"},
            {"--max-drop", "NaN", "--max-drop must be between 0 and 100 points, got NaN"},
            {"--limit", "0", "--limit must be at least 1 image, got 0"},
            {"--batch-size", "0", "--batch-size must be between 1 and 65536 images, got 0"},
            {"--threads", "-3", "--threads must be 0 (ONNX Runtime's choice) or a thread count up to 1024, got -3"},
        };
        for (String[] c : cases) {
            assertOneLineError(run("validate", m, m, "--data", "idx:none.gz", c[0], c[1]), 2, c[2]);
        }
        assertOneLineError(run("bench", m, "--batch-sizes", "3000000"), 2, "--batch-sizes 3000000: one input batch would hold");
        // the old name still works, and both together are refused
        assertOneLineError(run("bench", m, "--batch", "3000000"), 2, "--batch-sizes 3000000: one input batch would hold");
        assertOneLineError(run("bench", m, "--batch", "1", "--batch-sizes", "2"), 2, "give --batch-sizes");
        assertOneLineError(run("bench", m, "--warmup", "1", "--warmup-runs", "2"), 2, "give --warmup-runs");
        assertOneLineError(run("bench", m, "--warmup-runs", "-1"), 2, "--warmup-runs at least 0");
        assertOneLineError(run("bench-train", m, "--warmup-steps", "-2"), 2, "--warmup-steps at least 0, got 128, 15, 3 and -2");
        // an option of a stage's argument group given twice is refused as any other option is
        assertOneLineError(run("compress", m, "--share", "layer", "--share", "stage"), 2,
                "option '--share' (SCOPE) should be specified only once");
        assertOneLineError(run("compress", m, "--calibration-images", "5", "--calibration-images", "6"), 2,
                "option '--calibration-images' (N) should be specified only once");
        // fine-tuning options: NaN must not silently become the default
        String[][] train = {
            {"--clip", "NaN", "--clip must be a finite norm, 0 (off) or more, got NaN"},
            {"--clip", "Infinity", "--clip must be a finite norm, 0 (off) or more, got Infinity"},
            {"--warmup", "NaN", "--warmup must be a fraction in [0, 1), got NaN"},
            {"--warmup", "1", "--warmup must be a fraction in [0, 1), got 1.0"},
            {"--select-split", "NaN", "--select-split must be a fraction in [0, 0.5), got NaN"},
            {"--train-limit", "0", "--train-limit must be at least 1 image, got 0"},
        };
        for (String[] c : train) {
            assertOneLineError(run("finetune", m, "--teacher", m, "--train-data", "idx:none.gz", "-o",
                    dir.resolve("ft.onnx").toString(), c[0], c[1]), 2, c[2]);
        }
    }

    /**
     * A CIFAR-10 binary file of {@code records} random images ({@code seed}) labelled 0..9 in turn: one label
     * byte and 3 072 pixel bytes per record.
     */
    static java.nio.file.Path cifar(java.nio.file.Path file, int records, long seed) throws java.io.IOException {
        byte[] b = new byte[records * 3073];
        new java.util.Random(seed).nextBytes(b);
        for (int i = 0; i < records; i++) {
            b[i * 3073] = (byte) (i % 10);
        }
        return java.nio.file.Files.write(file, b);
    }

    /** The repository's testdata/ folder, from the module or the repository root. */
    static Path testdata() {
        Path root = Path.of("").toAbsolutePath();
        return (java.nio.file.Files.isDirectory(root.resolve("testdata")) ? root : root.getParent()).resolve("testdata");
    }

    /** A file of the project's scripts/ folder, found from the working directory or above it. */
    static Path script(String name) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path s = p.resolve("scripts").resolve(name);
            if (java.nio.file.Files.exists(s)) {
                return s;
            }
        }
        throw new IllegalStateException("scripts/" + name + " not found above " + Path.of("").toAbsolutePath());
    }

    /** The Fashion-MNIST training subset in testdata/ as an idx data spec. */
    static String fmnistTrain() {
        Path dir = testdata();
        return "idx:" + dir.resolve("fmnist-train5k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-train5k-labels-idx1-ubyte.gz");
    }

    static Run run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        // buffered like System.out, so output a command leaves unflushed is missing here too
        int code = Main.run(new PrintWriter(new java.io.BufferedWriter(o), true),
                new PrintWriter(new java.io.BufferedWriter(e), true), args);
        return new Run(code, o.toString(), e.toString());
    }

    static void assertOneLineError(Run r, int code, String fragment) {
        assertEquals(code, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("acdc: error: "), last);
        assertTrue(last.contains(fragment), last + " should mention " + fragment);
        for (String l : lines) {
            assertFalse(l.startsWith("\tat ") || l.contains("Exception"), "no stack trace: " + r.err());
            assertTrue(l.startsWith("acdc: "), "only progress lines and the error: " + r.err());
        }
    }

    @Test
    void inspectPrintsTableAndWritesJson() throws Exception {
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(ModelGenerators.residual(3, 8, 4, 5, 1), model, null);
        Path json = tmp.resolve("s.json");
        Run r = run("inspect", model.toString(), "--input-shape", "1,3,8,8", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("stem") && r.out().contains("4x3x3x3"), r.out());
        var j = dev.acdc.util.Json.mapper().readTree(json.toFile());
        for (String k : new String[] {"params", "macs", "bytes", "ops", "convs"}) {
            assertTrue(j.has(k), k);
        }
        assertEquals(3, j.get("convs").size());
        assertEquals("[4,3,3,3]", j.get("convs").get(0).get("kernel").toString());
        assertEquals(Files.size(model), j.get("bytes").asLong());
    }

    /** A model with operators acdc has no rule for: inspect lists them all, shows the convs, and still exits 0. */
    @Test
    void inspectListsUnsupportedOperatorsAndTheConvs() throws Exception {
        var m = ModelGenerators.residual(3, 8, 4, 5, 1);
        var nodes = m.graph().nodes();
        dev.acdc.ir.Node relu = nodes.get(1);
        nodes.set(1, new dev.acdc.ir.Node("up", "Upsample", relu.inputs(), relu.outputs(), java.util.List.of()));
        dev.acdc.ir.Node pool = nodes.stream().filter(n -> n.is("GlobalAveragePool")).findFirst().orElseThrow();
        nodes.set(nodes.indexOf(pool), new dev.acdc.ir.Node("rm", "ReduceL2", pool.inputs(), pool.outputs(),
                java.util.List.of()));
        Path model = tmp.resolve("unknown-ops.onnx");
        OnnxModels.save(m, model, null);
        Path json = tmp.resolve("u.json");
        Run r = run("inspect", model.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("unsupported  'Upsample' (1 node, first 'up'), 'ReduceL2' (1 node, first 'rm')"), r.out());
        assertTrue(r.out().contains("block_conv2") && r.out().contains("MACs         >= 6912 "), r.out());
        var j = dev.acdc.util.Json.mapper().readTree(json.toFile());
        assertEquals(false, j.get("macsComplete").asBoolean());
        assertTrue(j.get("convs").get(1).get("macs").isNull(), "an unknown size is null, not a made-up number");
        assertEquals(1, j.get("unsupportedOperators").get("Upsample").asInt());
        // compress passes operators without a rule through, measuring their shapes in ONNX Runtime: this Upsample
        // has no scales and ONNX Runtime no longer knows it at opset 13, so it refuses it, and compress says so
        assertOneLineError(run("compress", model.toString(), "-o", tmp.resolve("out.onnx").toString()), 2,
                "ONNX Runtime");
        assertTrue(!Files.exists(tmp.resolve("out.onnx")));
        // an FPN-like model (Resize, and Softplus that acdc has no rule for) compresses, and fine-tuning names what it cannot train through
        Path fpn = tmp.resolve("fpn.onnx");
        OnnxModels.save(dev.acdc.testing.ModelGenerators.withUpsample(3, 8, 16, 5, 7, 11), fpn, null);
        Run c = run("compress", fpn.toString(), "-o", tmp.resolve("fpn.acdc.onnx").toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.err().contains("passing through unchanged the operators acdc has no rule for: 'Softplus'"), c.err());
        assertTrue(c.out().contains("lateral") && c.out().contains("head"), c.out());
        byte[] data = new byte[20 * 3073];
        Path cifar = Files.write(tmp.resolve("d.bin"), data);
        assertOneLineError(run("compress", fpn.toString(), "--train-data", "cifar10:" + cifar, "-o",
                tmp.resolve("ft.onnx").toString()), 2, "fine-tuning (--train-data) needs a rule for every operator; "
                + "acdc has none for 'Softplus' (1 node, first 'soft')");
    }

    @Test
    void inspectResNet18Json() throws Exception {
        Path model = SharedFiles.model("resnet18-imagenet-random.onnx");
        Path json = tmp.resolve("r18.json");
        Run r = run("inspect", model.toString(), "--input-shape", "1,3,224,224", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        var j = dev.acdc.util.Json.mapper().readTree(json.toFile());
        assertEquals(1.814e9, j.get("macs").asDouble(), 0.01 * 1.814e9);
        assertEquals(11_689_512, j.get("params").asDouble(), 0.01 * 11_689_512);
    }

    @Test
    void badInputsGiveOneLineAndExitTwo() throws Exception {
        assertOneLineError(run("inspect", tmp.resolve("missing.onnx").toString()), 2, "no such file");
        Path text = Files.writeString(tmp.resolve("text.onnx"), "hello");
        assertOneLineError(run("inspect", text.toString()), 2, "text.onnx");
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(ModelGenerators.residual(3, 8, 4, 5, 1), model, null);
        assertOneLineError(run("inspect", model.toString(), "--input-shape", "1,3,x,8"), 2, "not a number");
        assertOneLineError(run("inspect", model.toString(), "--input-shape", "-1,3,8,8"), 2, "N or ? for a symbolic one");
        assertOneLineError(run("inspect", model.toString(), "--input-shape", "1,3,8"), 2, "rank");
    }

    @Test
    void verbosePrintsTheStackTrace() {
        Run r = run("inspect", tmp.resolve("missing.onnx").toString(), "--verbose");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("at dev.acdc"), r.err());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Run r = run("inspect", "m.onnx", "--frobnicate");
        assertOneLineError(r, 2, "Unknown option: '--frobnicate' (see: acdc inspect --help)");
        assertOneLineError(run("compress", "m.onnx", "--epochs", "1", "--epochs", "2"), 2,
                "option '--epochs' (<epochs>) should be specified only once");
        assertOneLineError(run("compress"), 2, "Missing required parameter");
    }

    @Test
    void commonSlipsGetAHint() {
        assertOneLineError(run("compress", "m.onnx", "--epoch", "3"), 2, "did you mean --epochs?");
        assertOneLineError(run("compress", "m.onnx", "--mean", "0.485", "0.456", "0.406"), 2,
                "lists are comma-separated: --mean 0.485,0.456,0.406");
    }

    @Test
    void helpExplains() {
        Run r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("inspect"), r.out());
    }

    /**
     * Every command's --help renders every description: picocli treats them as format strings and, on a
     * lone '%', prints a warning to the process's stderr and shows the raw text instead.
     */
    @Test
    void everyHelpTextFormats() {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        try {
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            for (String command : new picocli.CommandLine(new Main()).getSubcommands().keySet()) {
                Run r = run(command, "--help");
                assertEquals(0, r.code(), command + ": " + r.err());
                assertTrue(!r.out().contains("%n"), command + " --help shows a raw format string");
            }
        } finally {
            System.setErr(saved);
        }
        String warnings = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(!warnings.contains("picocli WARN"), warnings);
    }

    @Test
    void etaIsWrittenForPeople() {
        assertEquals("0s", ProgressBar.duration(-3));
        assertEquals("42s", ProgressBar.duration(42.4));
        assertEquals("1m00s", ProgressBar.duration(59.6));
        assertEquals("3m05s", ProgressBar.duration(185));
        assertEquals("1h14m", ProgressBar.duration(4471));
    }
}
