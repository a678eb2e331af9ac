package dev.acdc.onnx;

import com.google.protobuf.ByteString;
import dev.acdc.ir.Model;
import dev.acdc.onnx.proto.OnnxProto.GraphProto;
import dev.acdc.onnx.proto.OnnxProto.ModelProto;
import dev.acdc.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test models whose initializers live in an external data file (for tests outside this package too). */
public final class ExternalDataFiles {
    private ExternalDataFiles() {
    }

    /**
     * Writes {@code m} to {@code modelFile} with every initializer's bytes moved into {@code location}
     * (relative to the model's folder), which is written too unless {@code writeData} is false.
     */
    public static Path write(Model m, Path modelFile, String location, boolean writeData) throws Exception {
        ModelProto p = ModelProto.parseFrom(OnnxModels.toBytes(m));
        GraphProto.Builder g = p.getGraph().toBuilder();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            byte[] raw = t.getRawData().toByteArray();
            long offset = data.size();
            data.write(raw);
            g.setInitializer(i, t.toBuilder().setRawData(ByteString.EMPTY)
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(kv("location", location))
                    .addExternalData(kv("offset", Long.toString(offset)))
                    .addExternalData(kv("length", Long.toString(raw.length))));
        }
        Path dir = modelFile.toAbsolutePath().getParent();
        if (writeData) {
            Path df = dir.resolve(location);
            Files.createDirectories(df.getParent());
            Files.write(df, data.toByteArray());
        }
        Files.write(modelFile, p.toBuilder().setGraph(g).build().toByteArray());
        return modelFile;
    }

    private static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }
}
