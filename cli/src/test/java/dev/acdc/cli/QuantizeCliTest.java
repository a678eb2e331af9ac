package dev.acdc.cli;

import dev.acdc.ir.DataType;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizeCliTest {
    @TempDir
    Path tmp;

    private Path data(String name, int n, long seed) throws Exception {
        Path images = tmp.resolve(name + "-images.idx");
        Path labels = tmp.resolve(name + "-labels.idx");
        dev.acdc.data.IdxWriter.writeSubset(new dev.acdc.data.SyntheticDataset(n, 1, 8, 8, 5, seed), n, images, labels);
        return images.resolveSibling(images.getFileName() + "," + labels);
    }

    /**
     * Images that do not fit the model's input are refused before any work by every command that reads
     * them (calibration, fine-tune, int8 calibration), naming both shapes; nothing is written.
     */
    @Test
    void imagesThatDoNotFitTheModelAreRefusedByEveryStage() throws Exception {
        Path model = tmp.resolve("rgb.onnx");
        OnnxModels.save(ModelGenerators.residual(3, 8, 16, 5, 2), model, null);
        Path student = tmp.resolve("rgb.acdc.onnx");
        assertEquals(0, run("compress", model.toString(), "--group", "8", "-o", student.toString()).code());
        String gray = "idx:" + data("gray", 20, 3);
        String want = "the model expects input [N, 3, 8, 8] but the data are 1x8x8 images (layout nchw)";
        Path out = tmp.resolve("never.onnx");
        String[][] cases = {
            {"compress", model.toString(), "--calibration-data", gray},
            {"compress", model.toString(), "--train-data", gray},
            {"finetune", student.toString(), "--teacher", model.toString(), "--train-data", gray},
            {"quantize", model.toString(), "--mode", "int8", "--calibration-data", gray},
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOf(c, c.length + 2);
            args[c.length] = "-o";
            args[c.length + 1] = out.toString();
            CliTest.assertOneLineError(run(args), 2, want);
            assertTrue(!Files.exists(out), String.join(" ", c) + " wrote its output");
        }
    }

    /**
     * A model whose batch is fixed to 1 (most device exports), with an operator acdc has no rule for (Softplus):
     * quantize in both modes and compress run on batches of one, where they probed at two and ONNX Runtime refused.
     */
    @Test
    void aFixedBatchOfOneQuantizesAndCompresses() throws Exception {
        Model m = ModelGenerators.withUpsample(3, 32, 16, 10, 3, 13);
        m.graph().inputs().set(0, dev.acdc.ir.ValueInfo.tensor(m.graph().inputs().get(0).name(), DataType.FLOAT, 1, 3, 32, 32));
        m.graph().outputs().set(0, dev.acdc.ir.ValueInfo.tensor(m.graph().outputs().get(0).name(), DataType.FLOAT, 1, 10));
        Path model = tmp.resolve("batch1.onnx");
        OnnxModels.save(m, model, null);
        Path data = CliTest.cifar(tmp.resolve("d.bin"), 40, 2);
        CliTest.Run w = run("quantize", model.toString(), "--mode", "int8-weights", "-o", tmp.resolve("w.onnx").toString());
        assertEquals(0, w.code(), w.err());
        assertTrue(w.out().contains("probe batch [1, 3, 32, 32]") || w.err().contains("probe batch [1, 3, 32, 32]"),
                w.out() + w.err());
        CliTest.Run q = run("quantize", model.toString(), "--mode", "int8", "--calibration-data", "cifar10:" + data,
                "--eval-data", "cifar10:" + data, "-o", tmp.resolve("q.onnx").toString());
        assertEquals(0, q.code(), q.err());
        CliTest.Run c = run("compress", model.toString(), "--group", "8", "--calibration-data", "cifar10:" + data,
                "-o", tmp.resolve("c.onnx").toString());
        assertEquals(0, c.code(), c.err());
    }

    /** quantize takes --input-shape as compress does: a model with open H and W is probed at the size given. */
    @Test
    void quantizeTakesTheInputShape() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        m.graph().inputs().set(0, new dev.acdc.ir.ValueInfo("input", DataType.FLOAT, java.util.List.of(
                dev.acdc.ir.ValueInfo.Dim.symbol("N"), dev.acdc.ir.ValueInfo.Dim.of(3), dev.acdc.ir.ValueInfo.Dim.symbol("H"),
                dev.acdc.ir.ValueInfo.Dim.symbol("W")), null));
        Path model = tmp.resolve("open.onnx");
        OnnxModels.save(m, model, null);
        CliTest.Run q = run("quantize", model.toString(), "--mode", "int8-weights", "--input-shape", "1,3,16,16",
                "-o", tmp.resolve("q.onnx").toString());
        assertEquals(0, q.code(), q.err());
        assertTrue(q.err().contains("probe batch [2, 3, 16, 16]"), q.err());
        CliTest.Run d = run("quantize", model.toString(), "--mode", "int8-weights", "-o", tmp.resolve("d.onnx").toString());
        assertEquals(0, d.code(), d.err());
        assertTrue(d.err().contains("probe batch [2, 3, 224, 224]") && d.err().contains("leaves H, W open"), d.err());
    }

    /** acdc quantize in both modes: written, reported, recorded in the metadata, accepted by the ONNX checker. */
    @Test
    void quantizeWritesVerifiedReportedInt8Models() throws Exception {
        Path model = tmp.resolve("gray.onnx");
        OnnxModels.save(ModelGenerators.residual(1, 8, 16, 5, 2), model, null);
        String calib = "idx:" + data("calib", 40, 3);
        String eval = "idx:" + data("eval", 30, 4);
        for (String mode : new String[] {"int8-weights", "int8"}) {
            CliTest.Run r = run("quantize", model.toString(), "--mode", mode, "--calibration-data", calib,
                    "--calibration-images", "20", "--eval-data", eval);
            assertEquals(0, r.code(), r.err());
            Path out = tmp.resolve("gray." + mode + ".onnx");
            assertTrue(Files.exists(out), "default output name beside the model");
            var j = Json.mapper().readTree(tmp.resolve("gray." + mode + ".report.json").toFile());
            assertEquals(mode, j.get("quantization").get("mode").asText());
            assertEquals(4, j.get("quantization").get("layerErrors").size(), "three convs and the Gemm");
            assertTrue(j.get("verdict").asText().startsWith("top-1 "), j.get("verdict").asText());
            assertTrue(j.get("outputBytes").asLong() < j.get("inputBytes").asLong());
            assertTrue(Files.readString(tmp.resolve("gray." + mode + ".report.md")).contains("## int8 quantization"));
            var report = (dev.acdc.report.QuantizeReport) ReportSchemaTest.assertRoundTrips(
                    tmp.resolve("gray." + mode + ".report.json"));
            assertEquals(4, report.quantization().layerErrors().size());
            assertEquals(mode.equals("int8"), report.quantization().ranges() != null, "activation ranges in static mode");
            Model back = OnnxModels.load(out);
            assertTrue(back.metadata().get("acdc.quantized").contains(mode), back.metadata().toString());
            assertEquals("acdc", back.producerName());
            assertTrue(back.graph().initializers().values().stream().anyMatch(t -> t.type() == DataType.INT8));
            assertTrue(r.out().contains("per-layer output error against the float model"), r.out());
            if (CompressCliTest.python("import onnx") == 0) {
                assertEquals(0, CompressCliTest.python("import onnx; onnx.checker.check_model(onnx.load('" + out
                        + "'), full_check=True)"), "onnx.checker rejects the " + mode + " model");
            }
        }
        // the default is the smallest form, short names and local functions; --keep-names --no-local-functions
        // writes the exporter's names and every node: larger, the same outputs in ONNX Runtime, and said
        Path fn = tmp.resolve("gray.int8.onnx");
        Path plain = tmp.resolve("gray.plain.onnx");
        CliTest.Run big = run("quantize", model.toString(), "--mode", "int8", "--calibration-data", calib,
                "--calibration-images", "20", "--keep-names", "--no-local-functions", "-o", plain.toString());
        assertEquals(0, big.code(), big.err());
        assertTrue(Files.size(fn) < Files.size(plain), Files.size(fn) + " vs " + Files.size(plain) + " bytes");
        assertTrue(big.out().contains("would store the repeated node chains once"), big.out());
        long[] shape = {2, 1, 8, 8};
        float[] x = dev.acdc.testing.Ort.randomInput(shape, 9);
        assertArrayEquals(dev.acdc.testing.Ort.run(Files.readAllBytes(plain), x, shape),
                dev.acdc.testing.Ort.run(Files.readAllBytes(fn), x, shape));
        assertTrue(OnnxModels.load(plain).graph().nodes().stream().anyMatch(n -> !n.name().isEmpty()));
        if (CompressCliTest.python("import onnx") == 0) {
            assertEquals(0, CompressCliTest.python("import onnx; m = onnx.load('" + fn + "'); assert len(m.functions) > 0; "
                    + "onnx.checker.check_model(m, full_check=True)"), "onnx.checker rejects the model with functions");
        }
        // the static mode without calibration images, an unknown mode or method, a bad percentile: exit 2,
        // nothing written
        byte[] before = Files.readAllBytes(model);
        String[][] bad = {
            {"--mode", "int8"},
            {"--mode", "int4"},
            {"--mode", "int8", "--calibration-data", calib, "--calibration-method", "max"},
            {"--mode", "int8", "--calibration-data", calib, "--percentile", "NaN"},
            // the request's range, checked once (the library's): at most 50 would clip away most values
            {"--mode", "int8", "--calibration-data", calib, "--calibration-method", "percentile", "--percentile", "40"},
            {"--mode", "int8-weights", "--calibration-method", "entropy"},
            {"--mode", "int8", "--calibration-data", calib, "--percentile", "99.9"}, // not the percentile method
            {"--mode", "int8-weights", "--percentile", "99.9"},
            {"--coefficient-scales", "column"},
            {"-o", model.toString()},
        };
        for (String[] b : bad) {
            String[] args = new String[b.length + 2];
            args[0] = "quantize";
            args[1] = model.toString();
            System.arraycopy(b, 0, args, 2, b.length);
            CliTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", b) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        }
        assertArrayEquals(before, Files.readAllBytes(model), "the input is untouched");
        // a quantized model is not compressed, fine-tuned or quantized again: it says which model to use
        for (String mode : new String[] {"int8-weights", "int8"}) {
            Path q = tmp.resolve("gray." + mode + ".onnx");
            for (String[] cmd : new String[][] {{"compress", q.toString(), "-o", tmp.resolve("c.onnx").toString()},
                    {"quantize", q.toString(), "-o", tmp.resolve("qq.onnx").toString()},
                    {"finetune", q.toString(), "--teacher", model.toString(), "--train-data", calib, "-o",
                            tmp.resolve("f.onnx").toString()}}) {
                CliTest.Run r = run(cmd);
                assertEquals(2, r.code(), cmd[0] + " " + mode + ": " + r.err());
                assertTrue(r.err().contains("the model is quantized") && r.err().contains("its float original"), r.err());
            }
        }
    }

    /**
     * compress --quantize: fit, quantize, verify, and the report holds the float and the int8 model (int8
     * weights here: on a model this small, static int8's scales and Q/DQ nodes outweigh what it saves).
     */
    @Test
    void compressQuantizesAfterTheFit() throws Exception {
        Path model = tmp.resolve("gray.onnx");
        OnnxModels.save(ModelGenerators.residual(1, 8, 16, 5, 2), model, null);
        String calib = "idx:" + data("calib", 40, 3);
        String eval = "idx:" + data("eval", 30, 4);
        Path out = tmp.resolve("q.onnx");
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "--quantize", "int8-weights", "--calibration-data",
                calib, "--calibration-images", "20", "--eval-data", eval, "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        var j = Json.mapper().readTree(tmp.resolve("q.report.json").toFile());
        var fl = j.get("quantization").get("float");
        assertTrue(fl.get("bytes").asLong() > Files.size(out), "int8 is smaller than the float ACDC model");
        assertEquals(Files.size(out), fl.get("quantizedBytes").asLong());
        assertEquals(j.get("validation").get("candidate").get("top1").asDouble(), fl.get("quantizedTop1").asDouble(), 0);
        assertTrue(fl.has("top1"));
        var report = (dev.acdc.report.CompressReport) ReportSchemaTest.assertRoundTrips(tmp.resolve("q.report.json"));
        assertEquals(Files.size(out), report.quantization().floatModel().quantizedBytes());
        assertTrue(r.out().contains("float model before quantization:"), r.out());
        assertTrue(OnnxModels.load(out).metadata().containsKey("acdc.quantized"));
        assertTrue(OnnxModels.load(out).metadata().containsKey("acdc.share"), "the compression's keys stay");
        // static int8 of that small ACDC model (names kept) is larger than its input: said, not hidden
        Path acdc = tmp.resolve("a.onnx");
        assertEquals(0, run("compress", model.toString(), "--group", "8", "-o", acdc.toString()).code());
        Path named = tmp.resolve("n.onnx");
        assertEquals(0, run("compress", model.toString(), "--group", "8", "--keep-names", "--no-local-functions",
                "-o", named.toString()).code());
        CliTest.Run q = run("quantize", named.toString(), "--mode", "int8", "--calibration-data", calib,
                "--calibration-images", "20", "--keep-names", "--no-local-functions");
        assertEquals(0, q.code(), q.err());
        boolean larger = Files.size(tmp.resolve("n.int8.onnx")) >= Files.size(named);
        assertTrue(larger, "the case this checks");
        assertTrue(q.out().contains("warning: the int8 model (") && q.out().contains("--mode int8-weights stores less"),
                q.out());
        CliTest.Run bad = run("compress", model.toString(), "--quantize", "int8", "-o", tmp.resolve("x.onnx").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--quantize int8 needs calibration images"), bad.err());
        CliTest.Run stray = run("compress", model.toString(), "--coefficient-scales", "atom", "-o",
                tmp.resolve("x.onnx").toString());
        assertEquals(2, stray.code());
        assertTrue(stray.err().contains("apply with --quantize only"), stray.err());
        assertFalse(Files.exists(tmp.resolve("x.onnx")));
        // the float ACDC model is written by default with short names and local functions: smaller than with
        // --keep-names --no-local-functions, the same outputs, and the console says what the default chose
        Path big = tmp.resolve("a.big.onnx");
        CliTest.Run bg = run("compress", model.toString(), "--group", "8", "--keep-names", "--no-local-functions",
                "-o", big.toString());
        assertEquals(0, bg.code(), bg.err());
        assertFalse(bg.out().contains("bytes saved"), bg.out());
        assertTrue(Files.size(acdc) < Files.size(big), Files.size(acdc) + " vs " + Files.size(big));
        // the report names the layers as the input does, whatever the file calls them
        var convsShort = Json.mapper().readTree(tmp.resolve("a.report.json").toFile()).get("convs");
        var convsBig = Json.mapper().readTree(tmp.resolve("a.big.report.json").toFile()).get("convs");
        assertEquals(convsBig.size(), convsShort.size());
        for (int i = 0; i < convsBig.size(); i++) {
            assertEquals(convsBig.get(i).get("name").asText(), convsShort.get(i).get("name").asText());
        }
        CliTest.Run sm = run("compress", model.toString(), "--group", "8", "-o", tmp.resolve("a2.onnx").toString());
        assertTrue(sm.out().contains("short internal names") && sm.out().contains("bytes saved")
                && sm.out().contains("--keep-names, --no-local-functions opt out"), sm.out());
        long[] shape = {2, 1, 8, 8};
        float[] x = dev.acdc.testing.Ort.randomInput(shape, 5);
        assertArrayEquals(dev.acdc.testing.Ort.run(Files.readAllBytes(big), x, shape),
                dev.acdc.testing.Ort.run(Files.readAllBytes(acdc), x, shape));
        // short names (the default): the same model (checked in ONNX Runtime before the write), fewer bytes, the
        // same interface
        Path full = tmp.resolve("a.full.onnx");
        Path compact = tmp.resolve("a.compact.onnx");
        assertEquals(0, run("quantize", big.toString(), "--keep-names", "-o", full.toString()).code());
        CliTest.Run c = run("quantize", big.toString(), "-o", compact.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.size(compact) < Files.size(full), Files.size(compact) + " vs " + Files.size(full));
        var cm = OnnxModels.load(compact);
        assertEquals(OnnxModels.load(acdc).graph().inputs().get(0).name(), cm.graph().inputs().get(0).name());
        assertEquals(OnnxModels.load(acdc).graph().outputs().get(0).name(), cm.graph().outputs().get(0).name());
        assertTrue(cm.graph().nodes().stream().allMatch(n -> n.name().isEmpty()));
    }
}
