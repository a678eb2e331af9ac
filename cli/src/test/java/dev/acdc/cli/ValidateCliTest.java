package dev.acdc.cli;

import dev.acdc.testing.SharedFiles;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.acdc.cli.CliTest.assertOneLineError;
import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValidateCliTest {
    @TempDir
    Path tmp;

    private static final String[] NORM = {"--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"};

    private String[] args(String... extra) {
        Path m = SharedFiles.model("resnet20-cifar10.onnx");
        Path d = SharedFiles.require("data/cifar10/eembc200.bin");
        String[] base = {"validate", m.toString(), tmp.resolve("svd.onnx").toString(), "--data", "cifar10:" + d};
        String[] all = new String[base.length + NORM.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(NORM, 0, all, base.length, NORM.length);
        System.arraycopy(extra, 0, all, base.length + NORM.length, extra.length);
        return all;
    }

    @Test
    void maxDropDecidesTheExitCode() throws Exception {
        Path m = SharedFiles.model("resnet20-cifar10.onnx");
        assertEquals(0, run("compress", m.toString(), "-o", tmp.resolve("svd.onnx").toString()).code());
        Path json = tmp.resolve("v.json");
        CliTest.Run lenient = run(args("--max-drop", "95", "--json", json.toString()));
        assertEquals(0, lenient.code(), lenient.err());
        var j = Json.mapper().readTree(json.toFile());
        assertEquals(200, j.get("samples").asInt());
        assertEquals(0.90, j.get("original").get("top1").asDouble(), 1e-9);
        assertTrue(j.get("drop").asDouble() > 50, "an SVD fit alone loses most of the accuracy");
        for (String k : new String[] {"provider", "agreement", "maxAbsDiff"}) {
            assertTrue(j.has(k), k);
        }
        // one verdict line, as compress ends with: the drop, the agreement and the size, measured
        String verdict = String.format(java.util.Locale.ROOT, "top-1 %+.1f points, agreement %.1f %%, ",
                -j.get("drop").asDouble(), 100 * j.get("agreement").asDouble());
        assertTrue(j.get("verdict").asText().startsWith(verdict), j.get("verdict").asText() + " / " + verdict);
        assertTrue(j.get("verdict").asText().endsWith("x smaller"), j.get("verdict").asText());
        assertTrue(lenient.out().contains("verdict: " + j.get("verdict").asText()), lenient.out());
        CliTest.Run strict = run(args("--max-drop", "1"));
        assertEquals(1, strict.code(), strict.err());
        assertTrue(strict.err().contains("more than --max-drop"), strict.err());
    }

    @Test
    void anOriginalThatIsMostlyWrongPointsAtThePreprocessing() throws Exception {
        Path dir = CliTest.testdata();
        Path m = dir.resolve("fmnist-resnet14.onnx");
        String data = "idx:" + dir.resolve("fmnist-test2k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-test2k-labels-idx1-ubyte.gz");
        Path json = tmp.resolve("v.json");
        CliTest.Run right = run("validate", m.toString(), m.toString(), "--data", data, "--json", json.toString());
        assertEquals(0, right.code(), right.err());
        double top1 = Json.mapper().readTree(json.toFile()).get("original").get("top1").asDouble();
        assertTrue(top1 > 0.8, "the demo model with its own preprocessing: " + top1);
        assertTrue(!right.out().contains("warning:"), right.out());
        assertTrue(right.out().contains("verdict: top-1 +0.0 points, agreement 100.0 %, the same size"), right.out());
        // a common normalization (to -1..1) this model was not trained with: the original itself is mostly wrong
        CliTest.Run wrong = run("validate", m.toString(), m.toString(), "--data", data, "--mean", "0.5", "--std", "0.5",
                "--json", json.toString());
        assertEquals(0, wrong.code(), wrong.err()); // a warning, not an error: the figures are still measured
        top1 = Json.mapper().readTree(json.toFile()).get("original").get("top1").asDouble();
        assertTrue(top1 < 0.5, "the wrong normalization should break the model: " + top1);
        assertTrue(wrong.out().contains(String.format(java.util.Locale.ROOT, "warning: the original model itself is "
                + "right on only %.1f %% of the 2,000 labelled evaluation images", 100 * top1)), wrong.out());
        assertTrue(wrong.out().contains("check the preprocessing (--mean, --std, --scale"), wrong.out());
    }

    @Test
    void cudaFallsBackWithANoticeOrFailsWhenStrict() {
        if (dev.acdc.runtime.Sessions.cudaBuild()) {
            return; // a CUDA build on a GPU machine runs on CUDA instead
        }
        Path m = SharedFiles.model("resnet20-cifar10.onnx");
        Path d = SharedFiles.require("data/cifar10/eembc200.bin");
        CliTest.Run r = run("validate", m.toString(), m.toString(), "--data", "cifar10:" + d, "--limit", "20",
                "--provider", "cuda");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("running on CPU"), r.err());
        assertOneLineError(run("validate", m.toString(), m.toString(), "--data", "cifar10:" + d, "--provider", "cuda",
                "--strict"), 2, "--provider cuda --strict");
    }

    @Test
    void badDataSpecs() {
        Path m = SharedFiles.model("resnet20-cifar10.onnx");
        assertOneLineError(run("validate", m.toString(), m.toString(), "--data", "tfrecord:x"), 2, "unknown data kind");
        assertOneLineError(run("validate", m.toString(), m.toString(), "--data", "cifar10:" + tmp.resolve("none.bin")), 2,
                "no such data file");
        assertOneLineError(run("validate", m.toString(), m.toString(), "--data", "cifar10:x", "--layout", "hwc"), 2,
                "--layout must be nchw or nhwc");
    }
}
