package dev.acdc.runtime.workflow;

import dev.acdc.data.DataSpec;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Settings;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.Validator;
import dev.acdc.train.TrainOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the example of docs/api.md on the demo model in testdata/, and checks that the doc shows this code. */
class ApiExampleTest {
    @TempDir
    Path tmp;

    static Path repo() {
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("testdata")) ? here : here.getParent();
    }

    @Test
    void theDocumentedExampleCompressesFineTunesAndValidates() throws Exception {
        Path dir = repo().resolve("testdata");
        TrainOptions recipe = TrainOptions.builder().epochs(1).maxSteps(4).lr(0.005).build();
        Path out = tmp.resolve("fmnist-resnet14.acdc.onnx");
        byte[] input = Files.readAllBytes(dir.resolve("fmnist-resnet14.onnx"));
        CompressionJob.Outcome outcome;
        // api example begin
        Path model = dir.resolve("fmnist-resnet14.onnx");
        Preprocessing pre = Preprocessing.defaults(); // x / 255, as the model was trained
        try (Dataset train = DataSpec.open("idx:" + dir.resolve("fmnist-train5k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-train5k-labels-idx1-ubyte.gz"));
             Dataset test = DataSpec.open("idx:" + dir.resolve("fmnist-test2k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-test2k-labels-idx1-ubyte.gz"))) {
            CompressionJob.Request request = CompressionJob.Request.of(model, Settings.defaults(), out)
                    .withCalibration(CompressionJob.Calibration.of(train, pre))
                    .withFineTune(FineTuneJob.Settings.of(train, test, pre, recipe))
                    .withEvaluation(CompressionJob.Evaluation.of(test, pre));
            outcome = CompressionJob.run(request, line -> System.err.println("acdc: " + line));
            System.out.println(outcome.verdict().line()); // e.g. "top-1 -1.4 points, 5.4x smaller"
        }
        // api example end

        // the input is untouched; the model and its three reports are written, the model is what the outcome says
        assertArrayEquals(input, Files.readAllBytes(model));
        assertArrayEquals(outcome.bytes(), Files.readAllBytes(out));
        for (Path p : List.of(outcome.outputs().report(), outcome.outputs().markdown(), outcome.outputs().html())) {
            assertTrue(Files.size(p) > 0, p + " written");
        }
        assertTrue(outcome.bytes().length < input.length / 3, "several times smaller: " + outcome.bytes().length);
        // it fine-tuned the 4 steps asked for, from the output fit, on the training data less a 5 % selection split
        var ft = outcome.report().finetune();
        assertEquals(4, ft.steps());
        assertEquals(4750, ft.trainImages());
        assertEquals(250, ft.selectionImages());
        assertNotNull(outcome.report().outputFit());
        // the validation the outcome reports is the written file's top-1, recomputed here in a session of its own
        var v = outcome.validation();
        assertEquals(2000, v.samples());
        try (Dataset test = DataSpec.open("idx:" + dir.resolve("fmnist-test2k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-test2k-labels-idx1-ubyte.gz"));
             ModelIO io = new ModelIO(Files.readAllBytes(out), Sessions.Config.cpu(), s -> { })) {
            assertEquals(Validator.top1(io, test, Preprocessing.defaults(), 100), v.candidateTop1(), 1e-9);
        }
        // far above chance (10 %): a wrong export or write-back of the trained weights lands near it
        assertTrue(v.candidateTop1() > 0.3, "the fitted model after 4 small steps: " + v.candidateTop1());
        assertTrue(outcome.verdict().line().startsWith("top-1 "), outcome.verdict().line());
    }

    /** The block between the markers in this test is the block docs/api.md shows, line for line. */
    @Test
    void docsShowTheCodeThisTestRuns() throws Exception {
        String test = Files.readString(repo().resolve(
                "runtime/src/test/java/dev/acdc/runtime/workflow/ApiExampleTest.java"));
        String doc = Files.readString(repo().resolve("docs/api.md"));
        assertEquals(block(test).replace("outcome = ", "CompressionJob.Outcome outcome = "), block(doc));
    }

    private static String block(String text) {
        int a = text.indexOf("// api example begin");
        int b = text.indexOf("// api example end");
        assertTrue(a >= 0 && b > a, "markers present");
        StringBuilder sb = new StringBuilder();
        for (String line : text.substring(a, b).split("\n")) {
            if (!line.isBlank()) {
                sb.append(line.strip()).append('\n');
            }
        }
        return sb.toString();
    }
}
