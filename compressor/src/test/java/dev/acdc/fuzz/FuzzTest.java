package dev.acdc.fuzz;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A short coverage-guided fuzzing session of {@link ModelLoadingFuzzer} with Jazzer (libFuzzer), seeded
 * with tiny models made here and the small ../shared models where present, plus the regression inputs
 * earlier sessions found. The session runs in a child JVM so a finding (an exception other than
 * {@link AcdcException}, a hang over 10 s, memory over the limit) fails this test with the input saved.
 */
class FuzzTest {
    static final int SECONDS = 25;

    static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        s.add(OnnxModels.toBytes(ModelGenerators.residual(3, 8, 16, 4, 1)));
        Model compact = ModelGenerators.residual(3, 8, 16, 4, 2);
        Compressor.compress(compact, Settings.of("layer", null, "8", null, null), m -> { });
        s.add(OnnxModels.toBytes(compact));
        Model factorized = ModelGenerators.residual(3, 8, 16, 4, 3);
        Compressor.compress(factorized, Settings.of("net", null, "8", "factorized", null), m -> { });
        s.add(OnnxModels.toBytes(factorized));
        return s;
    }

    /** Regression inputs: models that once broke the one-line-error rule, built in code. */
    static List<byte[]> regressions() {
        List<byte[]> r = new ArrayList<>();
        // a value name with a newline, read by a node no producer defines (found by the fuzzer: the
        // message naming it spanned two lines)
        Model m = ModelGenerators.residual(3, 8, 16, 4, 4);
        Node first = m.graph().nodes().get(0);
        first.setInput(0, "in\nput\u001b[2J");
        r.add(OnnxModels.toBytes(m));
        return r;
    }

    @Test
    void regressionInputsFailCleanly() {
        for (byte[] b : regressions()) {
            ModelLoadingFuzzer.fuzzerTestOneInput(b);
            AcdcException e = org.junit.jupiter.api.Assertions.assertThrows(AcdcException.class, () -> {
                Model m = OnnxModels.fromBytes(b, null);
                dev.acdc.ir.ShapeInference.infer(m);
            });
            assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\u001b"), e.getMessage());
            assertTrue(e.getMessage().contains("in\\u000aput\\u001b[2J"), e.getMessage());
        }
    }

    /**
     * A node of an operator acdc has no rule for, with no outputs at all (found by the fuzzer after the
     * operator registry changed which paths it explored: inspect's MAC count read its output 0).
     */
    @Test
    void aNodeWithoutOutputsFailsCleanly() {
        Model m = ModelGenerators.residual(3, 8, 16, 4, 5);
        m.graph().nodes().add(new Node("sink", "Softplus", java.util.List.of(m.graph().nodes().get(0).output(0)),
                java.util.List.of(), java.util.List.of()));
        ModelLoadingFuzzer.fuzzerTestOneInput(OnnxModels.toBytes(m)); // throws on anything but a clean error
    }

    /**
     * An attribute of another type than its operator's (found by the fuzzer: a BatchNormalization whose epsilon
     * was an attribute type acdc does not decode ended in an IllegalStateException in fold-batchnorm): one line
     * naming the node.
     */
    @Test
    void anAttributeOfTheWrongTypeFailsCleanly() {
        Model m = ModelGenerators.residual(3, 8, 16, 4, 6);
        Node bn = m.graph().nodes().stream().filter(n -> n.is("BatchNormalization")).findFirst().orElseThrow();
        bn.setAttribute(dev.acdc.ir.Attribute.ofString("epsilon", "tiny"));
        byte[] b = OnnxModels.toBytes(m);
        ModelLoadingFuzzer.fuzzerTestOneInput(b); // throws on anything but a clean error
        AcdcException e = org.junit.jupiter.api.Assertions.assertThrows(AcdcException.class, () -> {
            Model read = OnnxModels.fromBytes(b, null);
            dev.acdc.passes.PassManager.standard().run(read);
        });
        assertTrue(e.getMessage().contains("BatchNormalization node '" + bn.label() + "': attribute 'epsilon' is STRING, "
                + "not FLOAT"), e.getMessage());
    }

    @Test
    void shortFuzzingSessionFindsNothing(@TempDir Path dir) throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        int i = 0;
        for (byte[] b : seeds()) {
            Files.write(corpus.resolve("seed-" + i++ + ".onnx"), b);
        }
        for (byte[] b : regressions()) {
            Files.write(corpus.resolve("regression-" + i++ + ".onnx"), b);
        }
        List<String> shared = new ArrayList<>();
        for (String name : new String[] {"mnist-8.onnx", "resnet20-cifar10-bn-batch1.onnx"}) {
            Path f = SharedFiles.root().resolve("models").resolve(name);
            if (Files.isRegularFile(f)) {
                Files.copy(f, corpus.resolve(name));
                shared.add(name);
            }
        }
        if (shared.isEmpty()) {
            System.out.println("FuzzTest: ../shared models not present; seeding with the generated models only");
        }
        Path artifacts = Files.createDirectories(dir.resolve("findings"));
        Path log = dir.resolve("jazzer.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-cp", System.getProperty("java.class.path"), "com.code_intelligence.jazzer.Jazzer",
                "--target_class=" + ModelLoadingFuzzer.class.getName(), "--instrumentation_includes=dev.acdc.**",
                "-max_total_time=" + SECONDS, "-timeout=10", "-rss_limit_mb=3072", "-seed=1",
                "-artifact_prefix=" + artifacts + "/", corpus.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(SECONDS + 90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the fuzzing session did not end; log: " + log);
        }
        String out = Files.readString(log, StandardCharsets.ISO_8859_1);
        List<Path> found;
        try (Stream<Path> s = Files.list(artifacts)) {
            found = s.toList();
        }
        if (p.exitValue() != 0 || !found.isEmpty()) {
            int at = out.indexOf("== Java Exception");
            fail("fuzzing found " + found + ":\n" + (at >= 0 ? out.substring(at, Math.min(out.length(), at + 3000))
                    : out.substring(Math.max(0, out.length() - 3000))));
        }
        Matcher done = Pattern.compile("Done (\\d+) runs in (\\d+) second").matcher(out);
        assertTrue(done.find(), () -> "no libFuzzer summary in the log:\n" + out.substring(Math.max(0, out.length() - 2000)));
        long runs = Long.parseLong(done.group(1));
        Matcher cov = Pattern.compile("cov: (\\d+) ft: (\\d+) corp: (\\d+)").matcher(out);
        String last = null;
        while (cov.find()) {
            last = "edges " + cov.group(1) + ", features " + cov.group(2) + ", corpus " + cov.group(3);
        }
        System.out.printf("FuzzTest: %d executions in %s s, %s, seeds: %d generated + %s, no findings%n", runs,
                done.group(2), last, i, shared);
        assertTrue(runs > 1000, "too few executions: " + runs);
        assertEquals(0, found.size());
    }

    @Test
    void seedsLoad() throws IOException {
        for (byte[] b : seeds()) {
            ModelLoadingFuzzer.fuzzerTestOneInput(b);
            assertTrue(OnnxModels.fromBytes(b, null).graph().nodes().size() > 5);
        }
    }
}
