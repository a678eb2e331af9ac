package dev.acdc.onnx;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.proto.OnnxProto.AttributeProto;
import dev.acdc.onnx.proto.OnnxProto.FunctionProto;
import dev.acdc.onnx.proto.OnnxProto.GraphProto;
import dev.acdc.onnx.proto.OnnxProto.ModelProto;
import dev.acdc.onnx.proto.OnnxProto.NodeProto;
import dev.acdc.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.acdc.onnx.proto.OnnxProto.TensorShapeProto;
import dev.acdc.onnx.proto.OnnxProto.TypeProto;
import dev.acdc.onnx.proto.OnnxProto.ValueInfoProto;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model-local functions: written for repeated chains, inlined when read; ONNX Runtime is the oracle. */
class LocalFunctionsTest {
    /**
     * An ACDC model written with local functions: smaller, each function called at least twice, ONNX Runtime
     * computes exactly the same outputs, and reading it back gives the same nodes in the same order.
     */
    @Test
    void repeatedChainsAreStoredOnceAndComputeTheSame() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
        Compressor.compress(m, Settings.of("layer", "3", "8", null, null), x -> { });
        byte[] plain = OnnxModels.toBytes(m);
        m.setLocalFunctions(true);
        byte[] outlined = OnnxModels.toBytes(m);
        assertTrue(outlined.length < plain.length, outlined.length + " bytes, not fewer than " + plain.length);

        ModelProto p = ModelProto.parseFrom(outlined);
        assertTrue(p.getFunctionsCount() >= 1);
        assertTrue(p.getIrVersion() >= 8);
        assertTrue(p.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals(LocalFunctions.DOMAIN)));
        Map<String, Integer> calls = new HashMap<>();
        for (NodeProto n : p.getGraph().getNodeList()) {
            if (n.getDomain().equals(LocalFunctions.DOMAIN)) {
                calls.merge(n.getOpType(), 1, Integer::sum);
            }
        }
        for (FunctionProto f : p.getFunctionsList()) {
            assertTrue(calls.getOrDefault(f.getName(), 0) >= 2, f.getName() + " called " + calls.get(f.getName()));
        }
        assertTrue(p.getGraph().getNodeCount() < ModelProto.parseFrom(plain).getGraph().getNodeCount());

        long[] shape = Ort.inputShape(m, 2);
        float[] x = Ort.randomInput(shape, 3);
        assertArrayEquals(Ort.run(plain, x, shape), Ort.run(outlined, x, shape));

        Model back = OnnxModels.fromBytes(outlined, null);
        Model ref = OnnxModels.fromBytes(plain, null);
        assertEquals(signature(ref), signature(back));
        Set<String> outputs = new HashSet<>();
        for (Node n : back.graph().nodes()) {
            for (String y : n.outputs()) {
                assertTrue(outputs.add(y), "value " + y + " written twice");
            }
        }
        // written again without functions, it is the plain graph
        byte[] again = OnnxModels.toBytes(back);
        assertEquals(0, ModelProto.parseFrom(again).getFunctionsCount());
        assertArrayEquals(Ort.run(plain, x, shape), Ort.run(again, x, shape));
    }

    /** Each node's operator, attributes and the initializers it reads: what inlining must give back. */
    private static List<String> signature(Model m) {
        List<String> s = new ArrayList<>();
        for (Node n : m.graph().nodes()) {
            StringBuilder b = new StringBuilder(n.opType());
            for (String x : n.inputs()) {
                b.append(' ').append(m.graph().initializer(x) != null ? x : "·");
            }
            n.attributes().values().forEach(a -> b.append(' ').append(a));
            s.add(b.toString());
        }
        return s;
    }

    private static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
    }

    private static NodeProto node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).addAllInput(in).addAllOutput(out)
                .addAllAttribute(List.of(attrs)).build();
    }

    private static AttributeProto axisRef() {
        return AttributeProto.newBuilder().setName("axis").setRefAttrName("axis")
                .setType(AttributeProto.AttributeType.INT).build();
    }

    private static AttributeProto axis(long v) {
        return AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    /** f(x, y; axis) = Concat(x + y, x) along axis (default 1), through an attribute reference. */
    private static FunctionProto addThenConcat(long opset) {
        return FunctionProto.newBuilder().setName("AddConcat").setDomain("test.fn")
                .addInput("x").addInput("y").addOutput("z").addAttribute("axis")
                .addAttributeProto(axis(1))
                .addNode(node("Add", List.of("x", "y"), List.of("s")))
                .addNode(node("Concat", List.of("s", "x"), List.of("z"), axisRef()))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
    }

    /** A = f(Relu(X), X; axis 1) [1,4,2,2], Y = f(A, A) [1,8,2,2]; Relu's output is named like an inlined value. */
    private static ModelProto callingModel(FunctionProto f) {
        GraphProto g = GraphProto.newBuilder().setName("g")
                .addInput(value("X", 1, 2, 2, 2)).addOutput(value("Y", 1, 8, 2, 2))
                .addNode(node("Relu", List.of("X"), List.of("AddConcat_0/s")))
                .addNode(NodeProto.newBuilder().setOpType("AddConcat").setDomain("test.fn").addInput("AddConcat_0/s")
                        .addInput("X").addOutput("A").addAttribute(axis(1)))
                .addNode(NodeProto.newBuilder().setOpType("AddConcat").setDomain("test.fn").addInput("A")
                        .addInput("A").addOutput("Y"))
                .build();
        return ModelProto.newBuilder().setIrVersion(9).setGraph(g).addFunctions(f)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("test.fn").setVersion(1)).build();
    }

    @Test
    void callsOfAFunctionAreInlinedWhenRead() throws Exception {
        ModelProto p = callingModel(addThenConcat(13));
        Model m = OnnxModels.fromBytes(p.toByteArray(), null);
        List<String> ops = new ArrayList<>();
        Set<String> outputs = new HashSet<>();
        for (Node n : m.graph().nodes()) {
            ops.add(n.opType());
            n.outputs().forEach(y -> assertTrue(outputs.add(y), "value " + y + " written twice"));
            if (n.is("Concat")) {
                assertEquals(1, n.attribute("axis").asInt(), "the reference and the default are bound");
            }
        }
        assertEquals(List.of("Relu", "Add", "Concat", "Add", "Concat"), ops);
        byte[] written = OnnxModels.toBytes(m);
        assertEquals(0, ModelProto.parseFrom(written).getFunctionsCount(), "no function is called any more");

        float[] x = {-1, 2, 3, -4, 5, 6, -7, 8};
        float[] a = new float[16]; // Concat(Relu(X) + X, Relu(X))
        for (int i = 0; i < 8; i++) {
            a[i] = Math.max(0, x[i]) + x[i];
            a[8 + i] = Math.max(0, x[i]);
        }
        float[] y = new float[32];
        for (int i = 0; i < 16; i++) {
            y[i] = 2 * a[i];
            y[16 + i] = a[i];
        }
        long[] shape = {1, 2, 2, 2};
        assertArrayEquals(y, Ort.run(p.toByteArray(), x, shape), "ONNX Runtime on the model with functions");
        assertArrayEquals(y, Ort.run(written, x, shape), "ONNX Runtime on the inlined model");
    }

    @Test
    void aFunctionOfAnotherOpsetIsRefused() {
        AcdcException e = assertThrows(AcdcException.class,
                () -> OnnxModels.fromBytes(callingModel(addThenConcat(11)).toByteArray(), null));
        assertTrue(e.getMessage().contains("'AddConcat' uses opset 11") && e.getMessage().contains("imports opset 13"),
                e.getMessage());
    }

    @Test
    void aRecursiveFunctionIsRefused() {
        FunctionProto f = addThenConcat(13).toBuilder()
                .addNode(NodeProto.newBuilder().setOpType("AddConcat").setDomain("test.fn").addInput("z")
                        .addInput("z").addOutput("w")).build();
        AcdcException e = assertThrows(AcdcException.class,
                () -> OnnxModels.fromBytes(callingModel(f).toByteArray(), null));
        assertTrue(e.getMessage().contains("more than 16 deep"), e.getMessage());
    }

    /** Sixteen levels of a function that calls the next one four times would inline to 4^15 nodes. */
    @Test
    void anInliningThatExplodesIsRefused() {
        ModelProto.Builder p = callingModel(addThenConcat(13)).toBuilder().clearFunctions();
        for (int level = 0; level < 16; level++) {
            FunctionProto.Builder f = FunctionProto.newBuilder().setName(level == 0 ? "AddConcat" : "L" + level)
                    .setDomain("test.fn").addInput("x").addInput("y").addOutput("z")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13));
            if (level == 15) {
                f.addNode(node("Add", List.of("x", "y"), List.of("z")));
            } else {
                String next = "L" + (level + 1);
                for (int k = 0; k < 4; k++) {
                    f.addNode(NodeProto.newBuilder().setOpType(next).setDomain("test.fn").addInput("x")
                            .addInput("y").addOutput(k == 3 ? "z" : "u" + k));
                }
            }
            p.addFunctions(f);
        }
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.fromBytes(p.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("more than 1000000 nodes"), e.getMessage());
    }
}
