package dev.acdc.onnx;

import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.onnx.proto.OnnxProto;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each structural defect of a model, written to bytes and read back, gets a one-line error naming it. */
class ValidityTest {
    private static OnnxProto.ModelProto good() throws Exception {
        return OnnxProto.ModelProto.parseFrom(OnnxModels.toBytes(ModelGenerators.residual(3, 8, 4, 5, 1)));
    }

    private static void refused(UnaryOperator<OnnxProto.GraphProto.Builder> change, String fragment) throws Exception {
        OnnxProto.ModelProto p = good();
        OnnxProto.GraphProto.Builder g = change.apply(p.getGraph().toBuilder());
        byte[] bytes = p.toBuilder().setGraph(g).build().toByteArray();
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.fromBytes(bytes, null));
        assertTrue(e.getMessage().contains(fragment), e.getMessage() + " should say " + fragment);
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    private static int firstConv(OnnxProto.GraphProto.Builder g) {
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals("Conv")) {
                return i;
            }
        }
        throw new IllegalStateException("no conv");
    }

    @Test
    void theGoodModelLoads() throws Exception {
        OnnxModels.fromBytes(good().toByteArray(), null);
    }

    @Test
    void duplicateNamesAreRefused() throws Exception {
        refused(g -> g.addInitializer(g.getInitializer(0)), "two initializers named '" + good().getGraph().getInitializer(0).getName() + "'");
        refused(g -> {
            int c = firstConv(g);
            String taken = g.getNode(c).getOutput(0);
            return g.setNode(c + 1, g.getNode(c + 1).toBuilder().setOutput(0, taken));
        }, "is produced twice");
    }

    @Test
    void undefinedValuesCyclesAndMissingOutputsAreNamedAsSuch() throws Exception {
        refused(g -> g.setNode(1, g.getNode(1).toBuilder().setInput(0, "nowhere")), "reads 'nowhere', which no initializer, input or node defines");
        // a cycle: the second node reads the last node's output, which depends on it
        refused(g -> {
            String last = g.getNode(g.getNodeCount() - 1).getOutput(0);
            return g.setNode(1, g.getNode(1).toBuilder().setInput(0, last));
        }, "out of order or form a cycle");
        refused(g -> g.setOutput(0, g.getOutput(0).toBuilder().setName("ghost")), "graph output 'ghost' is produced by no node");
    }

    /**
     * Nodes out of order (as onnxconverter-common's float16 pass writes them; ONNX Runtime sorts them itself): the
     * model loads, sorted, with the count of nodes that moved, and computes what the file computes in ONNX Runtime.
     */
    @Test
    void nodesOutOfOrderAreSortedOnRead() throws Exception {
        OnnxProto.ModelProto p = good();
        OnnxProto.GraphProto.Builder g = p.getGraph().toBuilder();
        List<OnnxProto.NodeProto> nodes = new java.util.ArrayList<>(g.getNodeList());
        java.util.Collections.reverse(nodes);
        byte[] bytes = p.toBuilder().setGraph(g.clearNode().addAllNode(nodes)).build().toByteArray();
        Model m = OnnxModels.fromBytes(bytes, null);
        assertTrue(m.graph().nodesSortedOnRead() > 0);
        List<String> order = m.graph().nodes().stream().map(dev.acdc.ir.Node::name).toList();
        List<String> original = good().getGraph().getNodeList().stream().map(OnnxProto.NodeProto::getName).toList();
        org.junit.jupiter.api.Assertions.assertEquals(original, order, "the only topological order of a chain");
        long[] shape = {2, 3, 8, 8};
        float[] x = dev.acdc.testing.Ort.randomInput(shape, 1);
        double d = dev.acdc.testing.Ort.relDiff(dev.acdc.testing.Ort.run(bytes, x, shape), dev.acdc.testing.Ort.run(m, x, shape));
        assertTrue(d < 1e-6, "same outputs: " + d);
        org.junit.jupiter.api.Assertions.assertEquals(0, OnnxModels.fromBytes(good().toByteArray(), null).graph()
                .nodesSortedOnRead());
    }

    @Test
    void convAttributesMustFitTheWeight() throws Exception {
        refused(g -> {
            int c = firstConv(g);
            OnnxProto.NodeProto.Builder n = g.getNode(c).toBuilder().clearAttribute();
            for (OnnxProto.AttributeProto a : g.getNode(c).getAttributeList()) {
                n.addAttribute(a.getName().equals("pads") ? a.toBuilder().clearInts().addInts(1).addInts(1).build() : a);
            }
            if (n.getAttributeList().stream().noneMatch(a -> a.getName().equals("pads"))) {
                n.addAttribute(OnnxProto.AttributeProto.newBuilder().setName("pads")
                        .setType(OnnxProto.AttributeProto.AttributeType.INTS).addInts(1).addInts(1));
            }
            return g.setNode(c, n);
        }, "pads has 2 values, a 2-D convolution needs 4");
        refused(g -> {
            int c = firstConv(g);
            return g.setNode(c, g.getNode(c).toBuilder().addAttribute(OnnxProto.AttributeProto.newBuilder()
                    .setName("group").setType(OnnxProto.AttributeProto.AttributeType.INT).setI(3)));
        }, "group 3 does not divide");
        // an attribute of the wrong type (a fuzzing finding): named, not an IllegalStateException
        refused(g -> {
            int c = firstConv(g);
            OnnxProto.NodeProto.Builder n = g.getNode(c).toBuilder().clearAttribute();
            for (OnnxProto.AttributeProto a : g.getNode(c).getAttributeList()) {
                if (!a.getName().equals("strides")) {
                    n.addAttribute(a);
                }
            }
            n.addAttribute(OnnxProto.AttributeProto.newBuilder().setName("strides")
                    .setType(OnnxProto.AttributeProto.AttributeType.FLOAT).setF(1));
            return g.setNode(c, n);
        }, "attribute 'strides' is FLOAT, not INTS");
    }

    @Test
    void aWrongLengthBiasIsRefused() {
        GraphBuilder b = GraphBuilder.create("bias");
        String x = b.input("x", DataType.FLOAT, 1, 2, 4, 4);
        String y = b.op("Conv", "conv", List.of(x, b.initializer("w", new long[] {3, 2, 1, 1}, new float[6]),
                b.initializer("b", new long[] {2}, new float[2])), Attribute.ofInts("kernel_shape", 1, 1));
        b.output(y, DataType.FLOAT, 1, 3, 4, 4);
        byte[] bytes = OnnxModels.toBytes(Model.of(b.graph(), 13));
        AcdcException e = assertThrows(AcdcException.class, () -> OnnxModels.fromBytes(bytes, null));
        assertTrue(e.getMessage().contains("Conv 'conv': bias of shape [2] for 3 output channels"), e.getMessage());
    }

    /** A computed conv weight whose shape overflows (found by fuzzing): a message, not an ArithmeticException. */
    @Test
    void anOverflowingComputedWeightShapeIsAnError() {
        GraphBuilder b = GraphBuilder.create("huge");
        String x = b.input("x", DataType.FLOAT, 1, 2, 8192, 8192);
        String w = b.op("Reshape", "r", b.initializer("flat", new long[] {4}, new float[4]),
                b.initializer("shape", new long[] {4}, new long[] {1L << 40, 2, 1L << 12, 1L << 12}));
        String y = b.op("Conv", "conv", x, w);
        b.output(y, DataType.FLOAT, -1, -1, -1, -1);
        Model m = Model.of(b.graph(), 13);
        AcdcException e = assertThrows(AcdcException.class, () -> dev.acdc.inspect.ModelSummary.of(m, null, 0));
        assertTrue(e.getMessage().contains("holds more values than a model can"), e.getMessage());
    }
}
