package dev.acdc.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.proto.OnnxProto.GraphProto;
import dev.acdc.onnx.proto.OnnxProto.ModelProto;
import dev.acdc.onnx.proto.OnnxProto.NodeProto;
import dev.acdc.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoundTripTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"resnet20-cifar10.onnx", "resnet56-cifar10.onnx", "resnet20-cifar10-bn-batch1.onnx",
        "mnist-8.onnx", "resnet18-imagenet-random.onnx", "mobilenet_v2-imagenet-random.onnx"})
    void sharedModelsRoundTripLosslessly(String name) throws Exception {
        Path file = SharedFiles.model(name);
        byte[] original = Files.readAllBytes(file);
        Model m = OnnxModels.load(file);
        Path out = tmp.resolve("copy.onnx");
        OnnxModels.save(m, out, file);
        byte[] saved = Files.readAllBytes(out);
        // every field, known or unknown, is equal as a protobuf message
        assertEquals(null, dev.acdc.testing.ProtoDiff.first(ModelProto.parseFrom(original), ModelProto.parseFrom(saved)),
                name + " changed in a round trip");
        // and ONNX Runtime computes the same outputs
        long[] shape = Ort.inputShape(m, 2);
        if (name.contains("batch1") || name.contains("mnist")) {
            shape = Ort.inputShape(m, 1);
        }
        float[] x = Ort.randomInput(shape, 7);
        assertArrayEquals(Ort.run(original, x, shape), Ort.run(saved, x, shape));
    }

    @Test
    void unknownFieldsDocStringsMetadataAndValueInfoSurvive() throws Exception {
        Model tiny = ModelGenerators.residual(3, 8, 4, 5, 1);
        ModelProto p = ModelProto.parseFrom(OnnxModels.toBytes(tiny));
        UnknownFieldSet extra = UnknownFieldSet.newBuilder()
                .addField(30, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("fn")).build())
                .build();
        UnknownFieldSet nodeExtra = UnknownFieldSet.newBuilder()
                .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build();
        GraphProto.Builder g = p.getGraph().toBuilder().setDocString("graph doc");
        NodeProto n0 = g.getNode(0).toBuilder().setDocString("node doc").setUnknownFields(nodeExtra).build();
        g.setNode(0, n0);
        g.addValueInfo(p.getGraph().getOutput(0).toBuilder().setName(n0.getOutput(0)).setDocString("vi doc"));
        TensorProto t0 = g.getInitializer(0).toBuilder().setDocString("weight doc").build();
        g.setInitializer(0, t0);
        ModelProto withExtras = p.toBuilder().setDocString("model doc").setDomain("dev.acdc.test").setModelVersion(3)
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("author").setValue("test"))
                .setGraph(g).setUnknownFields(extra).build();

        Model m = OnnxModels.fromBytes(withExtras.toByteArray(), null);
        assertEquals("test", m.metadata().get("author"));
        ModelProto back = ModelProto.parseFrom(OnnxModels.toBytes(m));
        assertEquals(withExtras, back);
        assertTrue(back.getUnknownFields().hasField(30));
        assertEquals(42L, back.getGraph().getNode(0).getUnknownFields().getField(99).getVarintList().get(0));
        assertEquals("vi doc", back.getGraph().getValueInfo(0).getDocString());
    }

    @Test
    void editedModelKeepsUntouchedPartsAndWritesNewTensors() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 4, 5, 2);
        Tensor w = m.graph().initializer("fc.bias");
        m.graph().putInitializer(Tensor.ofFloats("fc.bias", w.shape(), new float[] {1, 2, 3, 4, 5}));
        Model back = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5}, back.graph().initializer("fc.bias").floats());
        assertEquals(m.graph().nodes().size(), back.graph().nodes().size());
    }

    @Test
    void typedFieldsAndIntegerTypesDecode() throws Exception {
        TensorProto f = TensorProto.newBuilder().setName("f").setDataType(1).addDims(2).addFloatData(1.5f)
                .addFloatData(-2f).build();
        TensorProto d = TensorProto.newBuilder().setName("d").setDataType(11).addDims(1).addDoubleData(0.25).build();
        TensorProto i64 = TensorProto.newBuilder().setName("l").setDataType(7).addDims(2).addInt64Data(-3)
                .addInt64Data(1L << 40).build();
        TensorProto i32 = TensorProto.newBuilder().setName("i").setDataType(6).addDims(1).addInt32Data(-7).build();
        assertArrayEquals(new float[] {1.5f, -2f}, TensorCodec.decode(f, null, "").floats());
        assertArrayEquals(new double[] {0.25}, TensorCodec.decode(d, null, "").doubles());
        assertArrayEquals(new long[] {-3, 1L << 40}, TensorCodec.decode(i64, null, "").longs());
        assertArrayEquals(new long[] {-7}, TensorCodec.decode(i32, null, "").longs());
        // raw_data of the same values decodes the same
        Tensor raw = TensorCodec.decode(TensorCodec.encode(Tensor.ofLongs("i", dev.acdc.ir.DataType.INT32,
                new long[] {1}, new long[] {-7})), null, "");
        assertArrayEquals(new long[] {-7}, raw.longs());
    }
}
