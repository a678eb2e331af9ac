package dev.acdc.train;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.OpSchema;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every operator acdc has a rule for, on a small model built in code: ONNX Runtime's output has the
 * shape acdc infers, and — unless the operator is explicitly not trained — the SameDiff graph a fine-tune
 * builds (after the standard passes, as a fine-tune runs them) computes ONNX Runtime's output. A new
 * operator in {@link OpSchema} fails {@link #everyOperatorHasACase} until it has a case here.
 */
class OperatorCoverageTest {
    /** A model around one operator: its input shape, how to build it, and why it is not trained (null: it is). */
    record Case(long[] input, Builder build, String notTrained) {
    }

    interface Builder {
        String apply(GraphBuilder b, String x, Random r);
    }

    private static final long[] X = {2, 4, 6, 6};
    private static final long[] X2 = {2, 10};
    static final Map<String, Case> CASES = new TreeMap<>();

    private static void unary(String op, Attribute... a) {
        CASES.put(op, new Case(X, (b, x, r) -> b.op(op, "n", List.of(x), a), null));
    }

    /** An operator the passes remove (Identity, Dropout, a float Cast), with a Relu after it to compute. */
    private static void removed(String op, Attribute... a) {
        CASES.put(op, new Case(X, (b, x, r) -> b.op("Relu", "r", b.op(op, "n", List.of(x), a)), null));
    }

    private static String w(GraphBuilder b, Random r, String name, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        return b.initializer(name, shape, ModelGenerators.randn(r, n, 0.5));
    }

    private static String ints(GraphBuilder b, String name, long... v) {
        return b.initializer(name, new long[] {v.length}, v);
    }

    static {
        unary("Relu");
        unary("LeakyRelu", Attribute.ofFloat("alpha", 0.1f));
        unary("Sigmoid");
        unary("HardSigmoid");
        unary("HardSwish");
        removed("Identity");
        unary("GlobalAveragePool");
        removed("Dropout");
        unary("Flatten", Attribute.ofInt("axis", 1));
        unary("Transpose", Attribute.ofInts("perm", 0, 2, 3, 1));
        removed("Cast", Attribute.ofInt("to", DataType.FLOAT.code()));
        unary("ReduceMean", Attribute.ofInts("axes", 2, 3), Attribute.ofInt("keepdims", 0));
        unary("ReduceMax", Attribute.ofInts("axes", 1, 3));
        unary("Abs");
        for (String op : new String[] {"Neg", "Exp", "Tanh", "Erf"}) {
            unary(op);
        }
        unary("Elu", Attribute.ofFloat("alpha", 0.7f));
        // defined on positive inputs: after a Sigmoid
        for (String op : new String[] {"Log", "Sqrt", "Reciprocal"}) {
            CASES.put(op, new Case(X, (b, x, r) -> b.op(op, "n", b.op("Sigmoid", "s", x)), null));
        }
        CASES.put("Pow", new Case(X, (b, x, r) -> b.op("Pow", "n", x, b.initializer("e", new long[0], new float[] {2f})), null));
        // Max of three inputs (variadic, broadcast), Min of two
        CASES.put("Max", new Case(X, (b, x, r) -> b.op("Max", "n", x, b.op("Neg", "m", x),
                b.initializer("c", new long[] {1, 4, 1, 1}, new float[] {0.1f, 0.2f, -0.3f, 0.4f})), null));
        CASES.put("Min", new Case(X, (b, x, r) -> b.op("Min", "n", x, b.initializer("c", new long[0], new float[] {0.25f})),
                null));
        // comparisons feed a Where (a leaky clamp) or a Cast to float, as exporters write masks
        String[][] cmp = {{"Greater", "0"}, {"Less", "0.3"}, {"GreaterOrEqual", "-0.2"}, {"LessOrEqual", "0.1"}};
        for (String[] c : cmp) {
            CASES.put(c[0], new Case(X, (b, x, r) -> b.op("Where", "w", b.op(c[0], "n", x,
                    b.initializer("t", new long[0], new float[] {Float.parseFloat(c[1])})), x,
                    b.op("Mul", "lk", x, b.initializer("k", new long[0], new float[] {0.1f}))), null));
        }
        CASES.put("Equal", new Case(X, (b, x, r) -> b.op("Add", "a", x, b.op("Cast", "c", List.of(b.op("Equal", "n",
                b.op("Relu", "rl", x), b.initializer("z", new long[0], new float[] {0f}))),
                Attribute.ofInt("to", DataType.FLOAT.code()))), null));
        CASES.put("Where", new Case(X, (b, x, r) -> b.op("Where", "n", b.op("Greater", "g", x, b.op("Neg", "ng", x)),
                b.op("Exp", "e", x), b.initializer("c", new long[] {1, 4, 1, 1}, new float[] {1, 2, 3, 4})), null));
        unary("MaxPool", Attribute.ofInts("kernel_shape", 2, 2), Attribute.ofInts("strides", 2, 2));
        unary("AveragePool", Attribute.ofInts("kernel_shape", 3, 3), Attribute.ofInts("strides", 1, 1),
                Attribute.ofInts("pads", 1, 1, 1, 1));
        for (String op : new String[] {"Softmax", "LogSoftmax"}) {
            CASES.put(op, new Case(X2, (b, x, r) -> b.op(op, "n", List.of(x), Attribute.ofInt("axis", -1)), null));
        }
        for (String op : new String[] {"Add", "Sub", "Mul", "Div"}) {
            CASES.put(op, new Case(X, (b, x, r) -> b.op(op, "n", x, b.initializer("c", new long[] {1, 4, 1, 1},
                    new float[] {0.5f, 1.5f, 2f, 3f})), null));
        }
        CASES.put("Conv", new Case(X, (b, x, r) -> b.conv("n", x, w(b, r, "w", 3, 4, 3, 3), w(b, r, "bias", 3), 1,
                new long[] {1, 1}, new long[] {1, 1, 1, 1}), null));
        CASES.put("BatchNormalization", new Case(X, (b, x, r) -> b.op("BatchNormalization", "n", List.of(x,
                b.initializer("g", new long[] {4}, ModelGenerators.positive(r, 4)), w(b, r, "be", 4), w(b, r, "mu", 4),
                b.initializer("var", new long[] {4}, ModelGenerators.positive(r, 4))), Attribute.ofFloat("epsilon", 1e-5f)),
                null));
        CASES.put("Clip", new Case(X, (b, x, r) -> b.op("Clip", "n", x, b.initializer("lo", new long[0], new float[] {-0.5f}),
                b.initializer("hi", new long[0], new float[] {0.5f})), null));
        CASES.put("MatMul", new Case(X2, (b, x, r) -> b.op("MatMul", "n", x, w(b, r, "w", 10, 3)), null));
        CASES.put("Gemm", new Case(X2, (b, x, r) -> b.op("Gemm", "n", List.of(x, w(b, r, "w", 3, 10), w(b, r, "c", 3)),
                Attribute.ofInt("transB", 1)), null));
        CASES.put("Concat", new Case(X, (b, x, r) -> b.op("Concat", "n", List.of(x, b.op("Relu", "r", x)),
                Attribute.ofInt("axis", 1)), null));
        CASES.put("Reshape", new Case(X, (b, x, r) -> b.op("Reshape", "n", x, ints(b, "s", -1, 144)), null));
        CASES.put("Pad", new Case(X, (b, x, r) -> b.op("Pad", "n", x, ints(b, "p", 0, 0, 1, 0, 0, 0, 1, 2)), null));
        CASES.put("Slice", new Case(X, (b, x, r) -> b.op("Slice", "n", x, ints(b, "st", 1), ints(b, "en", 5),
                ints(b, "ax", 2)), null));
        CASES.put("Gather", new Case(X, (b, x, r) -> b.op("Gather", "n", List.of(x, ints(b, "i", 0, 2)),
                Attribute.ofInt("axis", 1)), null));
        CASES.put("Unsqueeze", new Case(X, (b, x, r) -> b.op("Unsqueeze", "n", x, ints(b, "a", 1)), null));
        CASES.put("Squeeze", new Case(new long[] {2, 4, 1, 6}, (b, x, r) -> b.op("Squeeze", "n", x, ints(b, "a", 2)),
                null));
        CASES.put("Tile", new Case(X, (b, x, r) -> b.op("Tile", "n", x, ints(b, "t", 1, 2, 1, 1)), null));
        CASES.put("Shape", new Case(X, (b, x, r) -> b.op("Relu", "r", b.op("Reshape", "re", x, b.op("Shape", "n", x))),
                null)); // shape arithmetic, as exporters write it
        CASES.put("Constant", new Case(X, (b, x, r) -> b.op("Add", "a", x, b.op("Constant", "n", List.of(),
                Attribute.ofTensor("value", Tensor.ofFloats("v", new long[] {6}, new float[] {1, 2, 3, 4, 5, 6})))), null));
        CASES.put("ConstantOfShape", new Case(X, (b, x, r) -> b.op("Add", "a", x, b.op("ConstantOfShape", "n",
                List.of(ints(b, "s", 6)), Attribute.ofTensor("value", Tensor.ofFloats("v", new long[] {1}, new float[] {2.5f})))),
                null));
        CASES.put("Resize", new Case(X, (b, x, r) -> b.op("Resize", "n", List.of(x, b.initializer("roi", new long[] {0},
                new float[0]), b.initializer("sc", new long[] {4}, new float[] {1, 1, 2, 2})),
                Attribute.ofString("mode", "linear")), null));
        // Split into unequal parts along the channels, the parts rejoined in another order
        CASES.put("Split", new Case(X, (b, x, r) -> {
            b.graph().nodes().add(new dev.acdc.ir.Node("n", "Split", List.of(x, ints(b, "sp", 1, 3)), List.of("s0", "s1"),
                    List.of(Attribute.ofInt("axis", 1))));
            return b.op("Concat", "cat", List.of("s1", b.op("Relu", "r", "s0")), Attribute.ofInt("axis", 1));
        }, null));
        CASES.put("ConvTranspose", convTranspose(Attribute.ofInt("group", 2), Attribute.ofInts("strides", 2, 2),
                Attribute.ofInts("pads", 1, 0, 0, 1), Attribute.ofInts("output_padding", 1, 0)));
        String int8 = dev.acdc.ir.Operators.of("QuantizeLinear").notTrained();
        CASES.put("QuantizeLinear", new Case(X, (b, x, r) -> b.op("QuantizeLinear", "n", x,
                b.initializer("s", new long[0], new float[] {0.05f})), int8));
        CASES.put("DequantizeLinear", new Case(X, (b, x, r) -> b.op("DequantizeLinear", "n", b.op("QuantizeLinear", "q", x,
                b.initializer("s", new long[0], new float[] {0.05f})), b.initializer("s2", new long[0], new float[] {0.05f})),
                int8));
    }

    /** A ConvTranspose of X (4 channels) by a [4, 3, 3, 3] kernel with a bias, 3 × group output channels. */
    static Case convTranspose(Attribute... a) {
        long group = 1;
        for (Attribute at : a) {
            if (at.name().equals("group")) {
                group = at.asInt();
            }
        }
        long out = 3 * group;
        return new Case(X, (b, x, r) -> b.op("ConvTranspose", "n", List.of(x, w(b, r, "w", 4, 3, 3, 3), w(b, r, "bias", out)), a),
                null);
    }

    /**
     * ConvTranspose's geometries beyond the one case above, each checked like an operator: the output size
     * acdc infers and the fine-tune's lowering (zeros inserted, pad or crop, flipped kernel) against ONNX
     * Runtime — stride 1 and 3, dilation, pads larger than the kernel's reach (a crop), output_shape, and
     * SAME_UPPER/SAME_LOWER with an odd total padding (where the larger half goes is the specification's);
     * and a dilated Conv, which ND4J's oneDNN kernel refuses and the lowering therefore dilates the kernel for.
     */
    @Test
    void convTransposeGeometriesMatchOnnxRuntime() {
        List<Attribute[]> geometries = List.of(
                new Attribute[] {},
                new Attribute[] {Attribute.ofInts("strides", 3, 2), Attribute.ofInts("dilations", 2, 2)},
                new Attribute[] {Attribute.ofInts("strides", 2, 2), Attribute.ofInts("pads", 3, 2, 4, 0)},
                new Attribute[] {Attribute.ofInts("strides", 2, 2), Attribute.ofInts("output_shape", 12, 13)},
                new Attribute[] {Attribute.ofInts("strides", 2, 3), Attribute.ofString("auto_pad", "SAME_UPPER")},
                new Attribute[] {Attribute.ofInts("strides", 2, 3), Attribute.ofString("auto_pad", "SAME_LOWER")},
                new Attribute[] {Attribute.ofInt("group", 4), Attribute.ofInts("strides", 2, 2)});
        check("Conv dilated", new Case(X, (b, x, r) -> b.op("Conv", "n", List.of(x, w(b, r, "w", 3, 4, 3, 3)),
                Attribute.ofInts("dilations", 2, 2)), null));
        for (Attribute[] a : geometries) {
            String what = "ConvTranspose " + java.util.Arrays.toString(a);
            try {
                check(what, convTranspose(a));
            } catch (RuntimeException e) {
                throw new AssertionError(what + ": " + e.getMessage(), e);
            }
        }
    }

    static List<String> operators() {
        return List.copyOf(CASES.keySet());
    }

    @Test
    void everyOperatorHasACase() {
        assertEquals(new TreeSet<>(OpSchema.supported()), new TreeSet<>(CASES.keySet()),
                "every operator acdc has a rule for needs a case here, and every case an operator");
        for (Map.Entry<String, Case> e : CASES.entrySet()) {
            assertEquals(dev.acdc.ir.Operators.of(e.getKey()).notTrained(), e.getValue().notTrained(),
                    e.getKey() + ": the registry and this case agree on whether fine-tuning trains through it");
        }
    }

    @ParameterizedTest
    @MethodSource("operators")
    void inferredShapeAndLoweringMatchOnnxRuntime(String op) {
        check(op, CASES.get(op));
    }

    private static void check(String what, Case c) {
        String op = what.split(" ")[0];
        Random r = new Random(op.hashCode());
        GraphBuilder b = GraphBuilder.create(op.toLowerCase());
        long[] dyn = c.input().clone();
        dyn[0] = -1;
        String x = b.input("input", DataType.FLOAT, dyn);
        String y = c.build().apply(b, x, r);
        Model m = Model.of(b.graph(), op.equals("HardSwish") ? 14 : 13); // HardSwish is an opset-14 operator
        ShapeInference.Facts f = ShapeInference.infer(m, Map.of("", c.input())).get(y);
        boolean int8 = f.type() == DataType.UINT8;
        b.output(y, f.type(), f.shape());
        byte[] bytes = OnnxModels.toBytes(m);
        float[] in = Ort.randomInput(c.input(), 7);
        long n = 1;
        for (long d : f.shape()) {
            n *= d;
        }
        if (int8) {
            assertTrue(c.notTrained() != null, what);
            return; // a uint8 output: shape checked by the ONNX checker in QuantizeCliTest, not read back as floats here
        }
        float[] ort = Ort.run(bytes, in, c.input());
        assertEquals(n, ort.length, what + ": ONNX Runtime's output has " + ort.length + " values, inferred shape "
                + java.util.Arrays.toString(f.shape()));
        if (c.notTrained() != null) {
            return;
        }
        Model cleaned = OnnxModels.fromBytes(bytes, null);
        PassManager.standard().run(cleaned);
        SameDiffGraph g = SameDiffGraph.build(cleaned, v -> true);
        float[] sd = g.output(in, c.input());
        assertEquals(ort.length, sd.length, what);
        assertTrue(Ort.maxAbsDiff(ort, sd) <= 1e-4, what + ": max |SameDiff - ONNX Runtime| " + Ort.maxAbsDiff(ort, sd));
    }
}
