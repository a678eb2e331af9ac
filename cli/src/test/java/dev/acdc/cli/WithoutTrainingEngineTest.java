package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user who compresses, validates, quantizes or serves does not need the training engine: acdc runs in a JVM
 * whose class path has no ND4J jar (nor its native ones), as a library user of acdc-runtime has it, and only
 * fine-tuning asks for it, in one line before any work.
 */
class WithoutTrainingEngineTest {
    @TempDir
    Path tmp;

    private static String classPathWithoutNd4j() {
        return Arrays.stream(InterruptTest.productClassPath().split(File.pathSeparator))
                .filter(e -> !e.contains(File.separator + "nd4j") && !e.contains(File.separator + "bytedeco"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private record Child(int code, String out) {
    }

    private Child acdc(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-cp", classPathWithoutNd4j(), "dev.acdc.cli.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), out);
        return new Child(p.exitValue(), out);
    }

    @Test
    void compressValidateQuantizeAndBenchRunWithoutNd4jAndFineTuningSaysWhatItNeeds() throws Exception {
        String cp = classPathWithoutNd4j();
        assertFalse(cp.contains("nd4j") || cp.contains("javacpp") || cp.contains("openblas"), cp);
        assertTrue(InterruptTest.productClassPath().contains("nd4j"), "the full class path has it: the filter is real");
        Path model = tmp.resolve("m.onnx");
        OnnxModels.save(ModelGenerators.residual(3, 32, 16, 10, 1), model, null);
        Path data = CliTest.cifar(tmp.resolve("d.bin"), 64, 3);
        String spec = "cifar10:" + data;
        Child c = acdc("inspect", model.toString());
        assertEquals(0, c.code(), c.out());
        c = acdc("compress", model.toString(), "-o", tmp.resolve("svd.onnx").toString());
        assertEquals(0, c.code(), c.out());
        // the output fit runs on ONNX Runtime alone; block recovery (auto) needs the engine and is left out
        c = acdc("compress", model.toString(), "--calibration-data", spec, "--calibration-images", "32",
                "--eval-data", spec, "-o", tmp.resolve("fit.onnx").toString());
        assertEquals(0, c.code(), c.out());
        assertTrue(c.out().contains("output fit") && !c.out().contains("block recovery: segment"), c.out());
        c = acdc("quantize", model.toString(), "--mode", "int8-weights", "-o", tmp.resolve("q.onnx").toString());
        assertEquals(0, c.code(), c.out());
        c = acdc("validate", model.toString(), tmp.resolve("fit.onnx").toString(), "--data", spec);
        assertEquals(0, c.code(), c.out());
        c = acdc("bench", tmp.resolve("svd.onnx").toString(), "--batch-sizes", "2", "--runs", "2", "--warmup-runs", "0");
        assertEquals(0, c.code(), c.out());
        // fine-tuning: one line, exit 2, nothing written
        Path ft = tmp.resolve("ft.onnx");
        c = acdc("compress", model.toString(), "--train-data", spec, "--epochs", "1", "-o", ft.toString());
        assertEquals(2, c.code(), c.out());
        assertTrue(c.out().replaceAll("\\s+", " ").contains("acdc: error: fine-tuning (--train-data) needs ND4J, acdc's "
                + "training engine, which is not on the class path"), c.out());
        assertFalse(c.out().contains("Exception") || c.out().contains("\tat "), c.out());
        assertFalse(Files.exists(ft));
    }
}
