package dev.acdc.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** compress --dry-run writes nothing and says the bytes the run then writes, and how long each stage takes. */
class DryRunTest {
    private static final Pattern BYTES = Pattern.compile("output\\s+([0-9,]+) bytes");

    @TempDir
    Path tmp;

    private long planned(String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of(args));
        a.add("--dry-run");
        try (var before = Files.list(tmp)) {
            long files = before.count();
            CliTest.Run r = run(a.toArray(new String[0]));
            assertEquals(0, r.code(), r.err());
            try (var after = Files.list(tmp)) {
                assertEquals(files, after.count(), "a dry run writes nothing: " + r.out());
            }
            assertTrue(r.out().contains("nothing written") && r.out().contains("total"), r.out());
            Matcher m = BYTES.matcher(r.out());
            assertTrue(m.find(), r.out());
            return Long.parseLong(m.group(1).replace(",", ""));
        }
    }

    private long written(Path out, String... args) {
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), r.err());
        try {
            return Files.size(out);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void thePlannedSizeIsTheWrittenSize() throws Exception {
        Path model = CliTest.testdata().resolve("fmnist-resnet14.onnx");
        String train = CliTest.fmnistTrain();
        Path out = tmp.resolve("a.onnx");
        String[][] runs = {
            {"--share", "block"},
            {"--keep-names", "--no-local-functions", "--atoms", "3"},
            {"--calibration-data", train, "--calibration-images", "32", "--sensitivity-images", "0", "--recovery", "off"},
            {"--quantize", "int8-weights"},
        };
        for (String[] extra : runs) {
            List<String> a = new ArrayList<>(List.of("compress", model.toString(), "-o", out.toString()));
            a.addAll(List.of(extra));
            long plan = planned(a.toArray(new String[0]));
            long real = written(out, a.toArray(new String[0]));
            assertEquals(real, plan, String.join(" ", extra));
            Files.list(tmp).forEach(p -> p.toFile().delete());
        }
        // a fine-tune: its three steps timed, and its size within 0.2 % of the file's
        List<String> a = new ArrayList<>(List.of("compress", model.toString(), "-o", out.toString(), "--train-data",
                train, "--train-limit", "300", "--epochs", "1", "--max-steps", "2", "--calibration-images", "32",
                "--sensitivity-images", "0"));
        CliTest.Run dry = run(concat(a, "--dry-run"));
        assertEquals(0, dry.code(), dry.err());
        assertTrue(dry.out().contains("fine-tune") && dry.out().contains("measured on 3 steps"), dry.out());
        Matcher m = BYTES.matcher(dry.out());
        assertTrue(m.find());
        long bound = Long.parseLong(m.group(1).replace(",", ""));
        CliTest.Run ran = run(a.toArray(new String[0]));
        assertEquals(0, ran.code(), ran.err());
        long real = Files.size(out);
        assertTrue(Math.abs(real - bound) <= 0.002 * real, real + " written, " + bound + " planned");
        // a run says its stages first
        assertTrue(java.util.regex.Pattern.compile("stages: output fit on 32 images \\(~\\d+ s\\) -> fine-tune for 2 "
                + "steps \\(timed on its first steps, then by its progress line\\) -> write \\(~: estimated").matcher(ran.err()).find(),
                ran.err());
        assertTrue(dry.out().contains("within 0.2 %"), dry.out());
    }

    @Test
    void aRecoveryOverItsBudgetIsPlannedAsSkipped() {
        Path model = CliTest.testdata().resolve("fmnist-resnet14.onnx");
        String[] base = {"compress", model.toString(), "-o", tmp.resolve("a.onnx").toString(), "--calibration-data",
            CliTest.fmnistTrain(), "--calibration-images", "32", "--sensitivity-images", "0", "--dry-run"};
        CliTest.Run within = run(concat(List.of(base), "--recovery=on"));
        assertEquals(0, within.code(), within.err());
        assertTrue(within.out().contains("block recovery (mode="), within.out());
        CliTest.Run over = run(concat(List.of(base), "--recovery=budget=0.001"));
        assertEquals(0, over.code(), over.err());
        assertTrue(over.out().contains("block recovery skipped: ~") && over.out().contains("over its budget of 1 s"),
                over.out());
        // and the first line of the run says so too
        CliTest.Run run = run(concat(List.of(base).subList(0, base.length - 1), "--recovery=budget=0.001"));
        assertEquals(0, run.code(), run.err());
        assertTrue(run.err().contains("block recovery skipped (~"), run.err());
    }

    private static String[] concat(List<String> a, String x) {
        List<String> b = new ArrayList<>(a);
        b.add(x);
        return b.toArray(new String[0]);
    }
}
