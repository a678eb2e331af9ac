package dev.acdc.onnx;

import com.google.protobuf.ByteString;
import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import dev.acdc.onnx.proto.OnnxProto.GraphProto;
import dev.acdc.onnx.proto.OnnxProto.ModelProto;
import dev.acdc.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Initializers stored in a separate file next to the model (ONNX external data). */
class ExternalDataTest {
    @TempDir
    Path tmp;

    /** Writes the tiny model with every float initializer moved into {@code location}. */
    private Path externalModel(Path dir, String location, String dataFile) throws Exception {
        Path model = ExternalDataFiles.write(ModelGenerators.residual(3, 8, 4, 5, 3), dir.resolve("model.onnx"), location,
                false);
        if (dataFile != null) {
            // the data written where dataFile says (which may differ from location, to test a missing file)
            Path other = dir.resolve(".data-source.onnx");
            ExternalDataFiles.write(ModelGenerators.residual(3, 8, 4, 5, 3), other, dataFile, true);
            Files.delete(other);
        }
        return model;
    }

    @Test
    void loadsExternalDataAndSavesItInline() throws Exception {
        Path model = externalModel(tmp, "weights/data.bin", "weights/data.bin");
        Model m = OnnxModels.load(model);
        Model inline = ModelGenerators.residual(3, 8, 4, 5, 3);
        assertArrayEquals(inline.graph().initializer("stem.weight").floats(), m.graph().initializer("stem.weight").floats());
        // the saved copy is self-contained and computes what the inline original does
        byte[] saved = OnnxModels.toBytes(m);
        long[] shape = {2, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 1);
        assertArrayEquals(Ort.run(inline, x, shape), Ort.run(saved, x, shape));
    }

    @Test
    void missingExternalFileIsNamed() throws Exception {
        Path model = externalModel(tmp, "gone.bin", null);
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.load(model));
        assertTrue(e.getMessage().contains("'gone.bin' is missing") && e.getMessage().contains("stem.weight"),
                e.getMessage());
    }

    @Test
    void absoluteLocationIsRefused() throws Exception {
        Path model = externalModel(tmp, "/etc/passwd", null);
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.load(model));
        assertTrue(e.getMessage().contains("absolute"), e.getMessage());
    }

    @Test
    void parentTraversalIsRefused() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.write(tmp.resolve("secret.bin"), new byte[4096]);
        Path model = externalModel(dir, "../secret.bin", null);
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.load(model));
        assertTrue(e.getMessage().contains("leaves the model's folder"), e.getMessage());
    }

    @Test
    void linkOutOfTheFolderIsRefused() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Path outside = Files.write(tmp.resolve("outside.bin"), new byte[4096]);
        Files.createSymbolicLink(dir.resolve("link.bin"), outside);
        Path model = externalModel(dir, "link.bin", null);
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.load(model));
        assertTrue(e.getMessage().contains("resolves outside"), e.getMessage());
    }

    @Test
    void shortExternalFileIsRefusedBeforeAllocating() throws Exception {
        Path model = externalModel(tmp, "data.bin", null);
        Files.write(tmp.resolve("data.bin"), ByteString.copyFromUtf8("tiny").toByteArray());
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.load(model));
        assertTrue(e.getMessage().contains("'data.bin' has 4"), e.getMessage());
    }
}
