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
        ModelProto p = ModelProto.parseFrom(OnnxModels.toBytes(ModelGenerators.residual(3, 8, 4, 5, 3)));
        GraphProto.Builder g = p.getGraph().toBuilder();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            byte[] raw = t.getRawData().toByteArray();
            long offset = data.size();
            data.write(raw);
            g.setInitializer(i, t.toBuilder().clearRawData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(kv("location", location))
                    .addExternalData(kv("offset", Long.toString(offset)))
                    .addExternalData(kv("length", Long.toString(raw.length))));
        }
        if (dataFile != null) {
            Path df = dir.resolve(dataFile);
            Files.createDirectories(df.getParent());
            Files.write(df, data.toByteArray());
        }
        Path model = dir.resolve("model.onnx");
        Files.write(model, p.toBuilder().setGraph(g).build().toByteArray());
        return model;
    }

    private static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
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
