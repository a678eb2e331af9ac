package dev.acdc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Block recovery has its own report section: per segment, the network's agreement, its settings and time. */
class RecoveryReportTest {
    @TempDir
    Path tmp;

    /** fmnist-resnet14 compressed with the output fit on 32 images and {@code --recovery=RECOVERY}, to NAME.onnx. */
    private void compress(String name, String recovery) {
        CliTest.Run r = run("compress", CliTest.testdata().resolve("fmnist-resnet14.onnx").toString(), "-o",
                tmp.resolve(name + ".onnx").toString(), "--calibration-data", CliTest.fmnistTrain(), "--calibration-images",
                "32", "--sensitivity-images", "0", "--recovery=" + recovery);
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void theReportHoldsEachSegmentsErrorAndTheAgreementBeforeAndAfter() throws Exception {
        compress("r", "epochs=1");
        JsonNode report = Json.mapper().readTree(tmp.resolve("r.report.json").toFile());
        JsonNode rec = report.get("recovery");
        assertTrue(rec.get("settings").asText().startsWith("mode=sequential,epochs=1,"), rec.toString());
        JsonNode segs = rec.get("segments");
        // fmnist-resnet14: six residual blocks, then the head
        assertEquals(7, segs.size(), rec.toString());
        for (JsonNode s : segs) {
            double before = s.get("errorBefore").asDouble();
            double after = s.get("errorAfter").asDouble();
            assertTrue(after <= before, s.toString());
            assertEquals(s.get("kept").asBoolean(), after < before, "kept exactly when lowered: " + s);
            assertEquals(32, s.get("images").asInt());
        }
        for (String k : new String[] {"agreementBefore", "agreementAfter", "heldOutBefore", "heldOutAfter"}) {
            double a = rec.get(k).asDouble();
            assertTrue(a >= 0 && a <= 1, k + " " + a);
        }
        assertTrue(rec.get("heldOutLossBefore").asDouble() >= 0 && rec.get("heldOutLossAfter").asDouble() >= 0, rec.toString());
        assertTrue(rec.get("seconds").asDouble() > 0);
        assertEquals(4L << 27, rec.get("memoryCapBytes").asLong(), "the cap of the activations it holds (2^27 floats)");
        // it ran; its guard undid it exactly when the held-out distillation loss rose, and said so
        boolean rose = rec.get("heldOutLossAfter").asDouble() > rec.get("heldOutLossBefore").asDouble();
        assertEquals(rose, rec.has("skipped"), rec.toString());
        if (rose) {
            assertTrue(rec.get("skipped").asText().startsWith("block recovery undone: the network's distillation loss"),
                    rec.toString());
        }
        for (JsonNode n : report.get("notes")) {
            assertFalse(n.asText().startsWith("block recovery"), "in its section, not the notes: " + n);
        }
        String md = Files.readString(tmp.resolve("r.report.md"));
        assertTrue(md.contains("\n## Block recovery\n") && md.contains("| block recovery | top-1 agreement"), md);
        assertTrue(md.contains("activations held in memory within 512 MiB"), md);
        assertEquals(segs.size(), md.lines().filter(l -> l.startsWith("| `") && l.contains("` → `")).count(), md);
    }

    @Test
    void aSkippedRecoverySaysWhyInItsSection() throws Exception {
        compress("s", "budget=0.0001");
        JsonNode rec = Json.mapper().readTree(tmp.resolve("s.report.json").toFile()).get("recovery");
        assertEquals(0, rec.get("segments").size());
        assertFalse(rec.has("agreementBefore") || rec.has("heldOutAfter"), "no agreement where it did not run: " + rec);
        assertTrue(rec.get("skipped").asText().startsWith("block recovery skipped: about"), rec.toString());
        String md = Files.readString(tmp.resolve("s.report.md"));
        assertTrue(md.contains("| block recovery | block recovery skipped: about"), md);
    }

    /**
     * With --checkpoint DIR the finished segments are kept there; a rerun with --resume takes them from it
     * (every segment done: none retrained) and writes the same bytes; --resume without a folder, or a folder
     * whose files no acdc run wrote, is a one-line error.
     */
    @Test
    void aCheckpointedRecoveryResumesToTheSameModel() throws Exception {
        Path ck = tmp.resolve("ck");
        String model = CliTest.testdata().resolve("fmnist-resnet14.onnx").toString();
        String[] common = {"compress", model, "--calibration-data", CliTest.fmnistTrain(), "--calibration-images", "32",
                "--sensitivity-images", "0", "--recovery=epochs=1"};
        CliTest.Run first = run(concat(common, "-o", tmp.resolve("a.onnx").toString(), "--checkpoint", ck.toString()));
        assertEquals(0, first.code(), first.err());
        assertTrue(Files.isRegularFile(ck.resolve("acdc-recovery-model.onnx")), first.err());
        CliTest.Run again = run(concat(common, "-o", tmp.resolve("b.onnx").toString(), "--checkpoint", ck.toString(),
                "--resume"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("resumed from " + ck + ": 7 of 7 segment(s) done"), again.err());
        assertFalse(again.err().contains("step 1/"), "no segment trained again: " + again.err());
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("a.onnx")), Files.readAllBytes(tmp.resolve("b.onnx"))));
        CliTest.assertOneLineError(run(concat(common, "-o", tmp.resolve("c.onnx").toString(), "--resume")), 2,
                "--resume needs --checkpoint DIR");
        Path foreign = Files.createDirectories(tmp.resolve("foreign"));
        Files.writeString(foreign.resolve("acdc-recovery-state.json"), "{}");
        CliTest.assertOneLineError(run(concat(common, "-o", tmp.resolve("d.onnx").toString(), "--checkpoint",
                foreign.toString())), 2, "which no acdc checkpoint wrote");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
