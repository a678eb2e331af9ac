package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scale benchmark's code path (scripts/scale-bench.sh) on a small model at 224×224 built in code: every
 * run of the script (SVD fit, output fit, int8, one training step) exits 0 and prints its row, with the output
 * fit split into statistics and solves and the step's images/s. The figures themselves are the benchmark's,
 * measured on ImageNet-size exports (docs/results.md); here only that the path works.
 */
class ScaleBenchTest {
    @TempDir
    Path tmp;

    private static Path script() {
        return CliTest.script("scale-bench.sh");
    }

    @Test
    void theBenchmarkRunsEveryStageOnASmallModel() throws Exception {
        Path cifar = SharedFiles.require("data/cifar10/test-jpeg.bin");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/time")), "skipped: needs /usr/bin/time (GNU time)");
        Assumptions.assumeTrue(CompressCliTest.python("import PIL") == 0,
                "skipped: writing the benchmark's images needs /usr/bin/python3 with PIL (python3-pil)");
        Path models = Files.createDirectories(tmp.resolve("models"));
        OnnxModels.save(ModelGenerators.residual(3, 224, 8, 10, 3), models.resolve("tiny_imagenet-opset13.onnx"), null);
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder("bash", script().toString(), models.toString(), cifar.toString(), "4",
                tmp.resolve("out").toString()).redirectErrorStream(true);
        pb.environment().put("ACDC", java + " -Xmx2g -cp " + InterruptTest.productClassPath() + " dev.acdc.cli.Main");
        pb.environment().put("TRAIN_BATCH", "4");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(!out.contains("exit "), "every run exits 0:\n" + out);
        List<String> rows = out.lines().filter(l -> l.startsWith("tiny_imagenet-opset13")).toList();
        assertEquals(4, rows.size(), out);
        assertTrue(rows.get(0).contains(" svd ") && rows.get(0).contains("fit "), out);
        assertTrue(rows.get(1).contains("output-fit") && rows.get(1).contains("statistics ")
                && rows.get(1).contains("solves "), out);
        assertTrue(rows.get(2).contains("int8"), out);
        assertTrue(rows.get(3).contains("train-step") && rows.get(3).contains("img/s"), out);
        for (String r : rows) {
            assertTrue(r.matches(".*\\d+:\\d\\d\\.\\d+\\s+\\d+\\.\\d GB.*"), "wall time and peak memory: " + r);
        }
    }
}
