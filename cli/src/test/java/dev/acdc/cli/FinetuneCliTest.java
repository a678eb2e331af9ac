package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testdata.TinyResNet;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.acdc.cli.CliTest.assertOneLineError;
import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FinetuneCliTest {
    @TempDir
    Path tmp;

    private Path cifar(String name, int records) throws Exception {
        byte[] b = new byte[records * 3073];
        Random r = new Random(records);
        r.nextBytes(b);
        for (int i = 0; i < records; i++) {
            b[i * 3073] = (byte) (i % 10);
        }
        return Files.write(tmp.resolve(name), b);
    }

    @Test
    void compressThenFinetune() throws Exception {
        Path teacher = tmp.resolve("tiny.onnx");
        OnnxModels.save(TinyResNet.build(3), teacher, null);
        Path student = tmp.resolve("tiny.acdc.onnx");
        assertEquals(0, run("compress", teacher.toString(), "-o", student.toString()).code());
        Path train = cifar("train.bin", 48);
        Path eval = cifar("eval.bin", 20);
        Path out = tmp.resolve("ft.onnx");
        CliTest.Run r = run("finetune", student.toString(), "--teacher", teacher.toString(), "--train-data",
                "cifar10:" + train, "--eval-data", "cifar10:" + eval, "--epochs", "2", "--batch", "16", "-o", out.toString(),
                "--checkpoint", tmp.resolve("ck").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("ND4J backend"), r.err());
        var j = Json.mapper().readTree(tmp.resolve("ft.report.json").toFile());
        assertEquals(2, j.get("finetune").get("epochs").size());
        assertEquals(6, j.get("finetune").get("steps").asInt());
        assertTrue(j.get("consistency").get("maxAbsLogitDiff").asDouble() <= 1e-3);
        assertTrue(j.has("validation"));
        assertTrue(Files.exists(tmp.resolve("ck/state.json")));
        // the output keeps the compact structure
        assertTrue(OnnxModels.load(out).graph().initializers().keySet().stream().anyMatch(n -> n.endsWith("/coefficients")));
    }

    @Test
    void teacherAndStudentMustFitEachOther() throws Exception {
        Path student = tmp.resolve("s.onnx");
        OnnxModels.save(TinyResNet.build(3), student, null);
        Path teacher = tmp.resolve("t.onnx");
        OnnxModels.save(ModelGenerators.residual(1, 8, 4, 10, 1), teacher, null);
        Path train = cifar("train.bin", 8);
        assertOneLineError(run("finetune", student.toString(), "--teacher", teacher.toString(), "--train-data",
                "cifar10:" + train), 2, "teacher input");
        assertOneLineError(run("finetune", student.toString(), "--teacher", student.toString(), "--train-data",
                "cifar10:" + Files.write(tmp.resolve("empty.bin"), new byte[0])), 2, "0 bytes");
        assertOneLineError(run("finetune", student.toString(), "--teacher", student.toString(), "--train-data",
                "cifar10:" + train, "--resume"), 2, "--resume needs --checkpoint");
        assertOneLineError(run("finetune", student.toString(), "--teacher", student.toString(), "--train-data",
                "cifar10:" + train, "--lr", "0"), 2, "--lr must be positive");
    }
}
