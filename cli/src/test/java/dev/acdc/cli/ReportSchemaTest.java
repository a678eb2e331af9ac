package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.ReportSchema;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Saved reports follow the schema: read back they render as they were written; a missing field is named. */
class ReportSchemaTest {
    @TempDir
    Path tmp;

    private Path compressedReport(String... extra) throws Exception {
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(dev.acdc.testdata.TinyResNet.build(3), model, null);
        byte[] b = new byte[40 * 3073];
        new java.util.Random(4).nextBytes(b);
        for (int i = 0; i < 40; i++) {
            b[i * 3073] = (byte) (i % 10);
        }
        Path data = Files.write(tmp.resolve("data.bin"), b);
        String[] args = {"compress", model.toString(), "-o", tmp.resolve("tiny.acdc.onnx").toString(),
            "--calibration-data", "cifar10:" + data, "--calibration-images", "20", "--eval-data", "cifar10:" + data};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(extra))
                .toArray(String[]::new);
        CliTest.Run r = run(all);
        assertEquals(0, r.code(), r.err());
        return tmp.resolve("tiny.acdc.report.json");
    }

    @Test
    void aSavedReportReadBackRendersTheSameMarkdownAndHtml() throws Exception {
        Path json = compressedReport("--mean", "0.5", "--std", "0.25");
        Map<String, Object> doc = ReportSchema.read(json);
        assertEquals(ReportSchema.VERSION, ((Number) doc.get("schemaVersion")).intValue());
        assertEquals("compress", doc.get("kind"));
        Map<?, ?> acdc = (Map<?, ?>) doc.get("acdc");
        assertTrue(((String) acdc.get("command")).startsWith("acdc compress "), acdc.toString());
        assertTrue(((String) acdc.get("preprocessing")).contains("0.5"), acdc.toString());
        assertTrue(acdc.get("date").toString().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), acdc.toString());
        assertTrue(doc.get("verdict").toString().startsWith("top-1 "), doc.get("verdict").toString());
        ReportSchema.Rendered again = ReportSchema.render(doc);
        assertEquals(Files.readString(tmp.resolve("tiny.acdc.report.html")), again.html());
        assertEquals(Files.readString(tmp.resolve("tiny.acdc.report.md")), again.markdown());
    }

    @Test
    void aReportMissingARequiredFieldFailsToLoadNamingIt() throws Exception {
        Path json = compressedReport();
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = Json.mapper().readValue(Files.readString(json), Map.class);
        ((Map<?, ?>) doc.get("totals")).remove("byteRatio");
        Path broken = Files.writeString(tmp.resolve("broken.json"), Json.write(doc));
        AcdcException e = assertThrows(AcdcException.class, () -> ReportSchema.read(broken));
        assertEquals("report " + broken + " lacks the required field 'totals.byteRatio' (schema 1, kind compress)",
                e.getMessage());
        doc.remove("schemaVersion");
        Files.writeString(broken, Json.write(doc));
        e = assertThrows(AcdcException.class, () -> ReportSchema.read(broken));
        assertTrue(e.getMessage().contains("lacks the required field 'schemaVersion'"), e.getMessage());
        doc.put("schemaVersion", 99);
        Files.writeString(broken, Json.write(doc));
        e = assertThrows(AcdcException.class, () -> ReportSchema.read(broken));
        assertTrue(e.getMessage().contains("has schema version 99; this acdc reads version 1"), e.getMessage());
    }
}
