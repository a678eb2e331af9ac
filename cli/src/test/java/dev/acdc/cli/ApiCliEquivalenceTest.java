package dev.acdc.cli;

import dev.acdc.data.DataSpec;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Settings;
import dev.acdc.quantize.Quantizer;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.runtime.workflow.CompressionJob;
import dev.acdc.runtime.workflow.EncodeOptions;
import dev.acdc.runtime.workflow.FitOptions;
import dev.acdc.runtime.workflow.PlanOptions;
import dev.acdc.runtime.workflow.FineTuneJob;
import dev.acdc.runtime.workflow.JobListener;
import dev.acdc.train.TrainOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same compression through acdc-compress and through the Java API (docs/api.md) writes the same bytes. */
class ApiCliEquivalenceTest {
    @TempDir
    Path tmp;

    @Test
    void theCommandAndTheApiWriteByteIdenticalModels() throws Exception {
        Path dir = CliTest.testdata();
        Path model = dir.resolve("fmnist-resnet14.onnx");
        String trainSpec = CliTest.fmnistTrain();
        String testSpec = "idx:" + dir.resolve("fmnist-test2k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-test2k-labels-idx1-ubyte.gz");
        Path viaCli = tmp.resolve("cli.onnx");
        Path viaApi = tmp.resolve("api.onnx");

        CliTest.Run r = run("compress", model.toString(), "-o", viaCli.toString(), "--epochs", "1", "--max-steps", "3",
                "--lr", "0.05", "--train-data", trainSpec, "--eval-data", testSpec);
        assertEquals(0, r.code(), r.err());

        Preprocessing pre = Preprocessing.defaults();
        CompressionJob.Outcome o;
        try (Dataset train = DataSpec.open(trainSpec); Dataset test = DataSpec.open(testSpec)) {
            o = CompressionJob.run(CompressionJob.Request.of(model, Settings.defaults(), viaApi)
                    .withCalibration(CompressionJob.Calibration.of(train, pre))
                    .withFineTune(FineTuneJob.Settings.of(train, test, pre,
                            TrainOptions.builder().epochs(1).maxSteps(3).lr(0.05).build()))
                    .withEvaluation(CompressionJob.Evaluation.of(test, pre)), JobListener.silent());
        }
        assertArrayEquals(Files.readAllBytes(viaCli), Files.readAllBytes(viaApi));
        assertTrue(r.out().contains("verdict: " + o.verdict().line()), r.out());
        // the report leads with what each stage did, then the diagnostics
        String md = Files.readString(tmp.resolve("cli.report.md"));
        int stages = md.indexOf("## Stages");
        assertTrue(stages > 0 && stages < md.indexOf("## Summary") && md.indexOf("## Summary") < md.indexOf("## Convolutions"),
                md);
        String table = md.substring(stages, md.indexOf("## Summary"));
        for (String row : new String[] {"| SVD fit |", "| output fit |", "| fine-tune |", "| validation |", "| written |"}) {
            assertTrue(table.contains(row), row + " in\n" + table);
        }
        assertTrue(table.contains("kept epoch " + o.report().finetune().bestEpoch()), table);
        assertTrue(table.contains(String.format(java.util.Locale.ROOT, "%,d bytes", Files.size(viaCli))), table);

        // the API's report records the request's recipe: the command reruns it, given the same data, to the same bytes
        Path viaRecipe = tmp.resolve("recipe.onnx");
        CliTest.Run rr = run("compress", model.toString(), "-o", viaRecipe.toString(), "--recipe",
                tmp.resolve("api.report.json").toString(), "--train-data", trainSpec, "--eval-data", testSpec);
        assertEquals(0, rr.code(), rr.err());
        assertArrayEquals(Files.readAllBytes(viaApi), Files.readAllBytes(viaRecipe));
    }

    /**
     * A request with a setting of every stage away from the command's defaults: the report the API writes
     * records each in the command's key, and the command rerun from that report writes the same bytes.
     */
    @Test
    void theApisRecipeRerunsInTheCommandToTheSameBytes() throws Exception {
        Path dir = CliTest.testdata();
        Path model = dir.resolve("fmnist-resnet14.onnx");
        String trainSpec = CliTest.fmnistTrain();
        Path viaApi = tmp.resolve("api.onnx");
        Preprocessing pre = new Preprocessing(1 / 127.5, new double[] {1}, new double[] {1}, false);
        try (Dataset train = DataSpec.open(trainSpec)) {
            CompressionJob.Request request = CompressionJob.Request.of(model, Settings.of("block", "4", "auto",
                            null, "stage1_block1.*"), viaApi)
                    .withCalibration(new CompressionJob.Calibration(train, pre, 96, 7))
                    .toBuilder()
                    .plan(PlanOptions.of(Settings.of("block", "4", "auto", null, "stage1_block1.*")).withSensitivityImages(0))
                    .fit(new FitOptions(FitOptions.Mode.OUTPUT, 3, false, 1))
                    .encode(new EncodeOptions(null, new Quantization.Request(Quantizer.Mode.WEIGHTS,
                            RangeStatistics.Method.MINMAX, Quantization.DEFAULT_PERCENTILE, null,
                            Quantizer.CoefficientScales.ATOM, false, true)))
                    .load(new CompressionJob.LoadOptions(new long[] {1, 1, 28, 28}))
                    .build();
            CompressionJob.run(request, JobListener.silent());
        }
        com.fasterxml.jackson.databind.JsonNode node = dev.acdc.util.Json.mapper()
                .readTree(tmp.resolve("api.report.json").toFile()).path("acdc").path("recipe");
        java.util.Map<String, String> recipe = new java.util.HashMap<>();
        node.properties().forEach(e -> recipe.put(e.getKey(), e.getValue().asText()));
        assertEquals("block", recipe.get("plan.share"));
        assertEquals("4", recipe.get("plan.atoms"));
        assertEquals("stage1_block1.*", recipe.get("plan.exclude"));
        assertEquals("3", recipe.get("fit.iterations"));
        assertEquals("conv", recipe.get("fit.target"));
        assertEquals("96", recipe.get("data.calibration-images"));
        assertEquals("int8-weights", recipe.get("quantize.mode"));
        assertEquals("atom", recipe.get("quantize.coefficient-scales"));
        assertEquals("true", recipe.get("write.keep-names"));
        assertEquals("off", recipe.get("recovery.mode"));
        Path viaRecipe = tmp.resolve("recipe.onnx");
        CliTest.Run r = run("compress", model.toString(), "-o", viaRecipe.toString(), "--recipe",
                tmp.resolve("api.report.json").toString(), "--calibration-data", trainSpec);
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(viaApi), Files.readAllBytes(viaRecipe));
    }
}
