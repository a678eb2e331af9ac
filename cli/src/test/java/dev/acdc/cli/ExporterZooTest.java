package dev.acdc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.acdc.cli.CliTest.assertOneLineError;
import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models from a real exporter: torchvision architectures with random weights, exported by PyTorch's
 * torch.onnx at the opsets users export at (scripts/export-zoo.py), inspected, compressed at full rank
 * (exact in ONNX Runtime) and by default, operators without a rule passed through. Skips, saying why,
 * without Debian's python3-torch and python3-torchvision.
 */
class ExporterZooTest {
    @TempDir
    Path tmp;

    private static Path script() {
        return CliTest.script("export-zoo.py");
    }

    private Path export(String name, int opset) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", script().toString(), tmp.toString(), "--opset",
                Integer.toString(opset), "--only", name).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.MINUTES) && p.exitValue() == 0, out);
        return tmp.resolve(name + "-opset" + opset + ".onnx");
    }

    private static JsonNode report(Path out) throws Exception {
        String s = out.toString();
        return Json.mapper().readTree(Path.of(s.substring(0, s.length() - ".onnx".length()) + ".report.json").toFile());
    }

    private static long count(Path model, String op) {
        Model m = OnnxModels.load(model);
        return m.graph().nodes().stream().filter(n -> n.is(op)).count();
    }

    @Test
    void torchvisionExportsCompressExactlyAndPassTheirOtherOperatorsThrough() throws Exception {
        Assumptions.assumeTrue(CompressCliTest.python("import torch, torchvision") == 0,
                "skipped: exporting the torchvision models needs /usr/bin/python3 with python3-torch and "
                        + "python3-torchvision (Debian packages)");
        // name, opset, operator without a rule it must keep
        Object[][] cases = {
            {"resnet18", 11, null}, {"squeezenet1_1", 9, null}, {"googlenet", 17, null},
            {"fcn_resnet50", 13, "Resize"}, {"tiny_decoder", 13, "ConvTranspose"}, {"kws_tcn1d", 13, null},
        };
        List<String> seen = new ArrayList<>();
        for (Object[] c : cases) {
            String name = (String) c[0];
            Path model = export(name, (int) c[1]);
            CliTest.Run i = run("inspect", model.toString());
            assertEquals(0, i.code(), name + ": " + i.err());
            Path full = tmp.resolve(name + ".full.onnx");
            CliTest.Run f = run("compress", model.toString(), "--atoms", "49", "--group", "4096", "--pointwise", "full",
                    "-o", full.toString());
            assertEquals(0, f.code(), name + ": " + f.err());
            JsonNode v = report(full).get("verification");
            double tolerance = 1e-4 * Math.max(1, v.get("outputScale").asDouble());
            assertTrue(v.get("maxAbsDiff").asDouble() <= tolerance, name + " at full rank: " + v);
            assertTrue(report(full).get("totals").get("decomposedConvs").asInt() > 0, name);
            Path def = tmp.resolve(name + ".acdc.onnx");
            CliTest.Run d = run("compress", model.toString(), "-o", def.toString());
            assertEquals(0, d.code(), name + ": " + d.err());
            assertTrue(Files.size(def) < Files.size(model), name + " smaller");
            if (c[2] != null) {
                assertEquals(count(model, (String) c[2]), count(def, (String) c[2]), name + " keeps its " + c[2]);
            }
            if (name.equals("tiny_decoder")) {
                // its two ConvTranspose (4x4 stride 2; grouped 3x3 with output_padding) decomposed, exactly at full
                // rank, and one fine-tuning step runs through them
                int transposed = 0;
                for (JsonNode conv : report(full).get("convs")) {
                    if (conv.get("name").asText().endsWith("ConvTranspose")) {
                        assertTrue(conv.get("decomposed").asBoolean(), conv.toString());
                        transposed++;
                    }
                }
                assertEquals(2, transposed);
                Path data = CliTest.cifar(tmp.resolve("d32.bin"), 64, 1);
                Path ft = tmp.resolve("decoder.ft.onnx");
                CliTest.Run t = run("compress", model.toString(), "--train-data", "cifar10:" + data, "--epochs", "1",
                        "-o", ft.toString());
                assertEquals(0, t.code(), t.err());
                assertTrue(report(ft).has("finetune"), "the report has its fine-tune section");
            }
            if (name.startsWith("fcn")) {
                // a segmentation map is not what the distillation loss trains: refused before any work
                Path data = Files.write(tmp.resolve("d.bin"), new byte[10 * 3073]);
                assertOneLineError(run("compress", model.toString(), "--train-data", "cifar10:" + data, "-o",
                        tmp.resolve("ft.onnx").toString()), 2, "this model's output is [N, 5, 64, 64]");
            }
            seen.add(name);
        }
        // a depthwise network with Resize (LR-ASPP): its 1x1 convs are factored and its Resize passes through;
        // with them kept dense, nothing is left to decompose, said so; int8 passes its Resize through
        Path seg = export("lraspp_mobilenet_v3_large", 13);
        Path segOut = tmp.resolve("seg.acdc.onnx");
        CliTest.Run sc = run("compress", seg.toString(), "-o", segOut.toString());
        assertEquals(0, sc.code(), sc.err());
        assertTrue(Files.size(segOut) < 0.6 * Files.size(seg), "1x1 convs factored: " + Files.size(segOut));
        assertEquals(2, count(segOut, "Resize"));
        assertOneLineError(run("compress", seg.toString(), "--pointwise", "dense", "-o",
                tmp.resolve("seg2.acdc.onnx").toString()), 2, "no convolution can be decomposed");
        Path q = tmp.resolve("seg.q.onnx");
        CliTest.Run r = run("quantize", seg.toString(), "--mode", "int8-weights", "-o", q.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(2, count(q, "Resize"));
        assertEquals(6, seen.size());
    }
}
