package dev.acdc.cli;

import dev.acdc.data.DataSpec;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Settings;
import dev.acdc.runtime.workflow.CompressionJob;
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
    }
}
