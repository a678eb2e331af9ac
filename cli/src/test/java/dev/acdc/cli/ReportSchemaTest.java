package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.CompressReport;
import dev.acdc.report.Report;
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
        Path data = CliTest.cifar(tmp.resolve("data.bin"), 40, 4);
        String[] args = {"compress", model.toString(), "-o", tmp.resolve("tiny.acdc.onnx").toString(),
            "--calibration-data", "cifar10:" + data, "--calibration-images", "20", "--eval-data", "cifar10:" + data};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(extra))
                .toArray(String[]::new);
        CliTest.Run r = run(all);
        assertEquals(0, r.code(), r.err());
        return tmp.resolve("tiny.acdc.report.json");
    }

    /**
     * {@code json}, read back as its record, writes the same JSON text and renders the Markdown and HTML
     * written beside it; returns the record.
     */
    static Report assertRoundTrips(Path json) throws Exception {
        Report doc = ReportSchema.read(json);
        assertEquals(Files.readString(json), ReportSchema.json(doc), "the record holds every field of " + json);
        ReportSchema.Rendered again = ReportSchema.render(doc);
        String base = json.toString().substring(0, json.toString().length() - ".json".length());
        assertEquals(Files.readString(Path.of(base + ".md")), again.markdown());
        assertEquals(Files.readString(Path.of(base + ".html")), again.html());
        return doc;
    }

    @Test
    void aSavedReportReadBackRendersTheSameMarkdownAndHtml() throws Exception {
        Path json = compressedReport("--mean", "0.5", "--std", "0.25");
        CompressReport doc = (CompressReport) assertRoundTrips(json);
        assertEquals(ReportSchema.VERSION, doc.schemaVersion());
        assertEquals("compress", doc.kind());
        assertTrue(doc.acdc().command().startsWith("acdc compress "), doc.acdc().toString());
        assertTrue(doc.acdc().preprocessing().contains("0.5"), doc.acdc().toString());
        assertTrue(doc.acdc().date().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), doc.acdc().toString());
        assertTrue(doc.verdict().startsWith("top-1 "), doc.verdict());
        // the sections this run made are typed, with the figures the run printed
        assertEquals(20, doc.outputFit().calibration().images());
        assertEquals(40, doc.validation().samples());
        assertEquals(0.5, doc.validation().preprocessing().mean()[0]);
        assertTrue(doc.convs().stream().anyMatch(c -> c.decomposed() && c.outputError() != null), doc.convs().toString());
        // a sibling report without the output fit or validation: those sections are absent, not empty
        Path plain = tmp.resolve("plain.onnx");
        assertEquals(0, run("compress", tmp.resolve("tiny.onnx").toString(), "-o", plain.toString()).code());
        CompressReport p = (CompressReport) assertRoundTrips(tmp.resolve("plain.report.json"));
        assertEquals(null, p.outputFit());
        assertEquals(null, p.validation());
        assertTrue(p.notes().stream().anyMatch(n -> n.startsWith("warning: fitted to the weights alone")), p.notes().toString());
        assertTrue(!Files.readString(tmp.resolve("plain.report.json")).contains("\"validation\""));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aFieldOfTheWrongTypeIsNamed() throws Exception {
        Path json = compressedReport();
        Map<String, Object> doc = Json.mapper().readValue(Files.readString(json), Map.class);
        ((Map<String, Object>) doc.get("output")).put("bytes", "many");
        Path broken = Files.writeString(tmp.resolve("typed.json"), Json.write(doc));
        AcdcException e = assertThrows(AcdcException.class, () -> ReportSchema.read(broken));
        assertTrue(e.getMessage().startsWith("report " + broken + ": field 'output.bytes' does not fit the schema"),
                e.getMessage());
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
