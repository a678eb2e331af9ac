package dev.acdc.cli;

import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ctrl-C in a real process at each stage of {@code compress}: the SIGINT is sent when the stage's own
 * progress line appears on standard error. Exit 130, one line saying so, no output, no temporary file
 * and no JVM crash log left in the folder (the working directory), and the previous output intact.
 */
class InterruptTest {
    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    /**
     * The test JVM's class path without the test frameworks and test classes: what the acdc jar runs
     * with. (With JUnit's jars on the class path this run of compress died with SIGSEGV in the output
     * fit, reproducibly, and without them it does not; not understood yet, noted in docs/bad-input.md.)
     */
    static String productClassPath() {
        return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> !e.contains("junit") && !e.contains("opentest4j") && !e.contains("apiguardian")
                        && !e.contains("test-classes") && !e.endsWith("-tests.jar") && !e.contains("surefire"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    private static boolean pythonWorks() {
        try {
            return new ProcessBuilder("python3", "-c", "pass").start().waitFor() == 0;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @ParameterizedTest(name = "Ctrl-C at \"{0}\"")
    @ValueSource(strings = {"planning sharing sets", "output fit: set 2/", "block recovery: segment 1/", "verifying the output",
        "validate "})
    void ctrlCAtAnyStageExits130AndLeavesNothing(String trigger) throws Exception {
        Path model = SharedFiles.model("resnet20-cifar10.onnx");
        Path data = SharedFiles.require("data/cifar10/test-jpeg.bin");
        Assumptions.assumeTrue(pythonWorks(), "needs python3 on the PATH to start the child with SIGINT at its default "
                + "disposition");
        Path out = tmp.resolve("out.onnx");
        Files.writeString(out, "the previous output");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(
                // a child of a background job inherits SIGINT ignored, and a JVM started so never sees Ctrl-C
                "python3", "-c", "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                        + "os.execvp(sys.argv[1], sys.argv[1:])",
                java, "-Xmx2g", "-cp", productClassPath(), "dev.acdc.cli.Main", "compress",
                model.toString(), "-o", out.toString(), "--calibration-data", "cifar10:" + data,
                "--calibration-images", "128", "--eval-data", "cifar10:" + data, "--limit", "3000",
                "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        List<String> lines = new ArrayList<>();
        boolean sent = false;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
                if (!sent && line.contains(trigger)) {
                    assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
                    sent = true;
                }
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the process ends");
        assertTrue(sent, "the stage was reached: " + String.join("\n", lines));
        assertEquals(130, p.exitValue(), String.join("\n", lines));
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("acdc: interrupted by Ctrl-C"), last);
        assertFalse(lines.stream().anyMatch(l -> l.contains("Exception") || l.contains("at dev.acdc")), "no stack trace");
        assertEquals("the previous output", Files.readString(out), "the previous output is intact");
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(out), left.toList(), "no temporary file, report or crash log is left");
        }
    }
}
