package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testdata.TinyResNet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command × every path option × every file it reads, each spelled four ways (the same path,
 * a {@code ./} spelling, a symbolic link, a hard link): refused with exit 2 before any work, and every
 * file byte for byte as it was. Plus two outputs of one run on one file, and checkpoint folders.
 */
class OutputGuardTest {
    @TempDir
    Path tmp;
    Path model;
    Path student;
    Path train;
    Path eval;

    @BeforeEach
    void files() throws Exception {
        model = tmp.resolve("tiny.onnx");
        OnnxModels.save(TinyResNet.build(3), model, null);
        student = tmp.resolve("tiny.acdc.onnx");
        assertEquals(0, run("compress", model.toString(), "-o", student.toString()).code());
        train = cifar("train.bin", 32);
        eval = cifar("eval.bin", 16);
    }

    private Path cifar(String name, int records) throws Exception {
        return CliTest.cifar(tmp.resolve(name), records, records);
    }

    /** The four spellings of a file that already exists. */
    private List<String> spellings(Path f, String tag) throws Exception {
        Path sym = tmp.resolve("sym-" + tag + "-" + f.getFileName());
        Files.deleteIfExists(sym);
        Files.createSymbolicLink(sym, f);
        Path hard = tmp.resolve("hard-" + tag + "-" + f.getFileName());
        Files.deleteIfExists(hard);
        Files.createLink(hard, f);
        return List.of(f.toString(), f.getParent() + "/./" + f.getFileName(), sym.toString(), hard.toString());
    }

    private Map<Path, byte[]> snapshot() throws Exception {
        Map<Path, byte[]> m = new LinkedHashMap<>();
        for (Path p : List.of(model, student, train, eval)) {
            m.put(p, Files.readAllBytes(p));
        }
        return m;
    }

    private void refused(List<String> args, Map<Path, byte[]> before) throws Exception {
        CliTest.Run r = run(args.toArray(new String[0]));
        assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
        assertTrue(r.err().contains("refusing") || r.err().contains("two outputs"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(e.getKey()), e.getKey() + " changed");
        }
    }

    @Test
    void everyOutputOntoEveryInputIsRefused() throws Exception {
        String t = "cifar10:" + train;
        String v = "cifar10:" + eval;
        // command, its arguments, the path options, the files it reads
        record Case(List<String> args, List<String> options, List<Path> reads) {
        }
        List<Case> cases = List.of(
                new Case(List.of("inspect", model.toString()), List.of("--json"), List.of(model)),
                new Case(List.of("validate", model.toString(), student.toString(), "--data", v), List.of("--json"),
                        List.of(model, student, eval)),
                new Case(List.of("bench", model.toString(), "--vs", student.toString(), "--batch-sizes", "1"),
                        List.of("--json"), List.of(model, student)),
                new Case(List.of("compress", model.toString(), "--train-data", t, "--eval-data", v, "--epochs", "1"),
                        List.of("-o", "--report"), List.of(model, train, eval)),
                new Case(List.of("finetune", student.toString(), "--teacher", model.toString(), "--train-data", t,
                        "--eval-data", v, "--epochs", "1"), List.of("-o", "--report"), List.of(student, model, train, eval)),
                new Case(List.of("train", model.toString(), "--train-data", t, "--eval-data", v, "--epochs", "1"),
                        List.of("-o", "--report"), List.of(model, train, eval)));
        Map<Path, byte[]> before = snapshot();
        int checked = 0;
        for (Case c : cases) {
            for (String opt : c.options()) {
                for (Path in : c.reads()) {
                    for (String spelled : spellings(in, c.args().get(0) + opt)) {
                        List<String> args = new ArrayList<>(c.args());
                        args.add(opt);
                        args.add(spelled);
                        refused(args, before);
                        checked++;
                    }
                }
            }
        }
        assertEquals(4 * (1 + 3 + 2 + 2 * 3 + 2 * 4 + 2 * 3), checked);
    }

    @Test
    void twoOutputsOfOneRunOnOneFileAreRefused() throws Exception {
        Path out = tmp.resolve("out.onnx");
        refused(List.of("compress", model.toString(), "-o", out.toString(), "--report", out.toString()), snapshot());
        // the Markdown report would land on the model output
        Path md = tmp.resolve("out.report.md");
        refused(List.of("compress", model.toString(), "-o", md.toString(), "--report",
                tmp.resolve("out.report.json").toString()), snapshot());
        assertFalse(Files.exists(out) || Files.exists(md), "nothing written");
    }

    @Test
    void aReportNamedLikeAPageIsRefused() throws Exception {
        Path out = tmp.resolve("out.onnx");
        for (String name : List.of("out.html", "OUT.md")) {
            CliTest.assertOneLineError(run("compress", model.toString(), "-o", out.toString(), "--report",
                    tmp.resolve(name).toString()), 2, "--report names the JSON report");
        }
        assertFalse(Files.exists(out) || Files.exists(tmp.resolve("out.html")), "nothing written");
        assertEquals(0, run("compress", model.toString(), "-o", out.toString(), "--report",
                tmp.resolve("r.json").toString()).code());
        assertTrue(Files.exists(tmp.resolve("r.html")) && Files.exists(tmp.resolve("r.md")), "written beside the JSON");
    }

    @Test
    void checkpointFoldersHoldingInputsOrForeignFilesAreRefused() throws Exception {
        Map<Path, byte[]> before = snapshot();
        String t = "cifar10:" + train;
        // the folder of the teacher and of the model being trained
        refused(List.of("finetune", student.toString(), "--teacher", model.toString(), "--train-data", t,
                "--checkpoint", tmp.toString()), before);
        refused(List.of("finetune", student.toString(), "--teacher", model.toString(), "--train-data", t,
                "--checkpoint", tmp.resolve(".").toString()), before);
        // a folder with a file of a checkpoint's name that no checkpoint wrote
        Path foreign = Files.createDirectories(tmp.resolve("elsewhere"));
        byte[] mine = {1, 2, 3};
        Files.write(foreign.resolve(dev.acdc.train.Checkpoint.MODEL), mine);
        refused(List.of("finetune", student.toString(), "--teacher", model.toString(), "--train-data", t,
                "--checkpoint", foreign.toString(), "-o", tmp.resolve("ft.onnx").toString()), before);
        assertArrayEquals(mine, Files.readAllBytes(foreign.resolve(dev.acdc.train.Checkpoint.MODEL)));
    }

    /** A full disk at the last of a run's outputs (the HTML report): every file of the previous run intact, no temp files. */
    @Test
    void aFailedLastWriteLeavesEveryPreviousOutputAsItWas() throws Exception {
        Path out = tmp.resolve("c.onnx");
        assertEquals(0, run("compress", model.toString(), "-o", out.toString()).code());
        List<Path> outputs = List.of(out, tmp.resolve("c.report.json"), tmp.resolve("c.report.md"), tmp.resolve("c.report.html"));
        Map<Path, byte[]> before = new LinkedHashMap<>();
        for (Path p : outputs) {
            before.put(p, Files.readAllBytes(p));
        }
        dev.acdc.util.AtomicFiles.failWritesOfForTest(".report.html");
        try {
            CliTest.Run r = run("compress", model.toString(), "-o", out.toString(), "--atoms", "2");
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("cannot write") && r.err().contains("c.report.html"), r.err());
        } finally {
            dev.acdc.util.AtomicFiles.failWritesOfForTest(null);
        }
        for (Path p : outputs) {
            assertArrayEquals(before.get(p), Files.readAllBytes(p), p + " was changed by the failed run");
        }
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList(),
                    "no temporary files left");
        }
        // and the same run without the fault replaces all four
        assertEquals(0, run("compress", model.toString(), "-o", out.toString(), "--atoms", "2").code());
        assertFalse(java.util.Arrays.equals(before.get(out), Files.readAllBytes(out)));
    }
}
