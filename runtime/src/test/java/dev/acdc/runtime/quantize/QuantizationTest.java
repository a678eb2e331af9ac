package dev.acdc.runtime.quantize;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.quantize.Quantizer;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.QuantizationCalibration;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizationTest {
    private static CalibrationImages images(int n, long seed) {
        return CalibrationImages.sample(new SyntheticDataset(n, 3, 8, 8, 5, seed), Preprocessing.defaults(), n, seed);
    }

    private static float[] run(byte[] model, CalibrationImages im) {
        try (ModelIO io = new ModelIO(model, Sessions.Config.cpu(), x -> { })) {
            return io.run(im.x(), im.count(), im.sampleShape());
        }
    }

    /**
     * Every stored weight of a dense and of an ACDC model comes back, in ONNX Runtime, within half a
     * scale step of the float weight it replaces; it is stored as int8, and the file shrinks.
     */
    @Test
    void int8WeightsComeBackWithinHalfAScaleStep() throws java.io.IOException {
        Model dense = ModelGenerators.residual(3, 8, 16, 5, 4);
        Model acdc = ModelGenerators.residual(3, 8, 16, 5, 4);
        Compressor.compress(acdc, Settings.of("layer", "3", "8", null, null), x -> { });
        record Case(Model m, Quantizer.CoefficientScales scales, boolean byteScales) { }
        // and a ConvTranspose, dense (its per-channel scales along axis 1, its output channels)
        // the coefficients' many per-row scales: in half precision in a plain file, else in one byte (the quantizer
        // itself, before names are shortened and chains outlined, so the values keep the names read below)
        List<Case> cases = List.of(new Case(dense, Quantizer.CoefficientScales.ROW, false),
                new Case(ModelGenerators.withTransposedConv(3, 8, 16, 5, 2, 4), Quantizer.CoefficientScales.ROW, false),
                new Case(acdc, Quantizer.CoefficientScales.ROW, false), new Case(acdc, Quantizer.CoefficientScales.ROW, true),
                new Case(acdc, Quantizer.CoefficientScales.ATOM, false));
        for (Case c : cases) {
            Model m = c.m();
            Model prepared = Quantizer.prepare(m);
            Model qm;
            if (c.byteScales()) {
                qm = Quantizer.prepare(m);
                Quantizer.weightsOnly(qm, null, c.scales(), true);
            } else {
                qm = Quantization.run(m, new Quantization.Request(Quantizer.Mode.WEIGHTS, RangeStatistics.Method.MINMAX,
                        Quantization.DEFAULT_PERCENTILE, null, c.scales(), false, false), null, x -> { }).model();
            }
            record Quantized(Model model) { }
            Quantized q = new Quantized(qm);
            List<String> values = new ArrayList<>();
            List<Tensor> floats = new ArrayList<>();
            List<String> scales = new ArrayList<>();
            Map<String, long[]> codeShapes = new java.util.HashMap<>();
            int halves = 0;
            for (Node n : q.model().graph().nodes()) {
                if (n.is("Mul") && n.output(0).endsWith("_dequantized")) {
                    String name = n.output(0).substring(0, n.output(0).length() - "_dequantized".length());
                    values.add(n.output(0));
                    floats.add(prepared.graph().initializer(name));
                    // many scales are stored as one-byte codes, decoded by Cast, Mul, Exp, Mul of constants, or in
                    // half precision, read through a Cast
                    String scale = n.input(1);
                    if (!q.model().graph().isInitializer(scale) && q.model().graph().producer(scale).is("Cast")) {
                        Node cast = q.model().graph().producer(scale);
                        scale = cast.input(0);
                        assertEquals(DataType.FLOAT16, q.model().graph().initializer(scale).type(), name);
                        halves++;
                    } else if (!q.model().graph().isInitializer(scale)) {
                        dev.acdc.ir.Graph g = q.model().graph();
                        Node base = g.producer(scale);
                        Node exp = g.producer(base.input(0));
                        Node step = g.producer(exp.input(0));
                        Node cast = g.producer(step.input(0));
                        assertEquals("Mul Exp Mul Cast", base.opType() + " " + exp.opType() + " " + step.opType() + " "
                                + cast.opType(), name);
                        assertEquals(DataType.UINT8, g.initializer(cast.input(0)).type(), name);
                        codeShapes.put(scale, g.initializer(cast.input(0)).shape());
                        assertEquals(1, g.initializer(base.input(1)).floats().length, name + ": one base");
                    }
                    scales.add(scale);
                    assertEquals(DataType.INT8, q.model().graph().initializer(name + "_quantized").type(), name);
                }
            }
            Map<String, dev.acdc.decompose.WeightRoles.Role> roles = dev.acdc.decompose.WeightRoles.of(m);
            int merged = 0;
            for (Map.Entry<String, dev.acdc.decompose.WeightRoles.Role> e : roles.entrySet()) {
                if (e.getValue() == dev.acdc.decompose.WeightRoles.Role.COEFFICIENTS && c.scales() == Quantizer.CoefficientScales.ROW) {
                    long[] sShape = q.model().graph().initializer(e.getKey() + "_scale").shape();
                    long[] cShape = m.graph().initializer(e.getKey()).shape();
                    assertEquals(java.util.Arrays.toString(new long[] {cShape[0], 1}), java.util.Arrays.toString(sShape),
                            e.getKey() + ": scales per row");
                }
                if (e.getValue() == dev.acdc.decompose.WeightRoles.Role.ATOMS && c.scales() == Quantizer.CoefficientScales.ATOM) {
                    merged += checkMergedScales(prepared, q.model(), e.getKey());
                }
            }
            assertEquals(c.scales() == Quantizer.CoefficientScales.ATOM, merged > 0, "per-atom scales merged: " + merged);
            assertTrue(values.size() + 2 * merged >= 4, "weights dequantized: " + values + ", " + merged + " merged");
            if (m == acdc) { // the recorded roles now name the int8 tensors that hold coefficients and atoms
                String json = q.model().metadata().get(dev.acdc.decompose.WeightRoles.KEY);
                Map<?, ?> recorded = dev.acdc.util.Json.mapper().readValue(json, Map.class);
                assertEquals(roles.values().stream().filter(r -> r != dev.acdc.decompose.WeightRoles.Role.DENSE).count(),
                        recorded.size());
                for (Object k : recorded.keySet()) {
                    assertEquals(DataType.INT8, q.model().graph().initializer(String.valueOf(k)).type(), k + " is int8");
                }
            }
            List<String> wanted = new ArrayList<>(values);
            wanted.addAll(scales.stream().filter(v -> !q.model().graph().isInitializer(v)).toList());
            // the dequantized weights and the decoded scales, as ONNX Runtime computes them
            Map<String, float[]> back = QuantizationCalibration.constants(q.model(), wanted);
            int coded = wanted.size() - values.size();
            boolean many = c.m() == acdc && c.scales() == Quantizer.CoefficientScales.ROW;
            assertEquals(many && c.byteScales(), coded > 0, "coded scales: " + coded);
            assertEquals(many && !c.byteScales(), halves > 0, "half-precision scales: " + halves);
            double worst = 0;
            for (int i = 0; i < values.size(); i++) {
                float[] w = floats.get(i).floats();
                float[] b = back.get(values.get(i));
                String sv = scales.get(i);
                boolean stored = q.model().graph().isInitializer(sv);
                float[] s = stored ? q.model().graph().initializer(sv).floats() : back.get(sv);
                long[] shape = floats.get(i).shape();
                int axis = 0;
                long[] sShape = stored ? q.model().graph().initializer(sv).shape() : codeShapes.get(sv);
                for (int d = 0; d < sShape.length; d++) {
                    if (sShape[d] > 1) {
                        axis = d;
                    }
                }
                long inner = 1;
                for (int d = axis + 1; d < shape.length; d++) {
                    inner *= shape[d];
                }
                for (int k = 0; k < w.length; k++) {
                    float step = s[(int) ((k / inner) % s.length)];
                    double err = Math.abs(b[k] - w[k]);
                    // (decoded scales: ONNX Runtime's exp may differ from Java's by an ulp, times up to 127)
                    assertTrue(err <= step / 2 * (1 + 1e-4) + 1e-9, values.get(i) + "[" + k + "]: " + err + " > " + step / 2);
                    worst = Math.max(worst, err / step);
                }
            }
            assertTrue(worst > 0.3, "the values are really rounded (worst " + worst + " of a step)");
            assertTrue(floatBytes(q.model()) < 0.2 * floatBytes(prepared), "weights left float: " + floatBytes(q.model())
                    + " bytes of " + floatBytes(prepared));
        }
    }

    /**
     * With per-atom scales, the atoms' Mul carries the product of the coefficients' and the atoms' scales and
     * the coefficients are a bare Cast: both int8 tensors equal {@link dev.acdc.quantize.QuantMath#symmetric}
     * of the float factors (an independent quantization of each), the stored scale the product of theirs,
     * and the kernel ONNX Runtime computes the product of the two dequantized factors. Returns 1.
     */
    private static int checkMergedScales(Model prepared, Model q, String atoms) {
        dev.acdc.ir.Graph g = q.graph();
        Node mul = g.producer(atoms + "_scaled");
        Node matmul = g.consumerIndex().get(mul.output(0)).get(0);
        Node cast = g.producer(matmul.input(0));
        assertTrue(cast.is("Cast") && g.isInitializer(cast.input(0)), "coefficients read through a Cast: " + cast);
        String alpha = cast.input(0).substring(0, cast.input(0).length() - "_quantized".length());
        Tensor fa = prepared.graph().initializer(alpha);
        Tensor fd = prepared.graph().initializer(atoms);
        dev.acdc.quantize.QuantMath.PerChannel qa = dev.acdc.quantize.QuantMath.symmetric(fa.floats(), fa.shape(), 1);
        dev.acdc.quantize.QuantMath.PerChannel qd = dev.acdc.quantize.QuantMath.symmetric(fd.floats(), fd.shape(), 0);
        assertEquals(java.util.Arrays.toString(qa.values()), java.util.Arrays.toString(g.initializer(cast.input(0)).longs()), alpha);
        Node atomCast = g.producer(mul.input(0));
        assertEquals(java.util.Arrays.toString(qd.values()), java.util.Arrays.toString(g.initializer(atomCast.input(0)).longs()), atoms);
        float[] s = g.initializer(mul.input(1)).floats();
        int atomsCount = (int) fd.shape()[0];
        int taps = (int) fd.shape()[1];
        int rows = (int) fa.shape()[0];
        for (int d = 0; d < atomsCount; d++) {
            assertEquals(qa.scales()[d] * qd.scales()[d], s[d], 0f, "scale of atom " + d);
        }
        float[] k = QuantizationCalibration.constants(q, List.of(matmul.output(0))).get(matmul.output(0));
        float[] da = qa.dequantized();
        float[] dd = qd.dequantized();
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < taps; t++) {
                double want = 0;
                for (int d = 0; d < atomsCount; d++) {
                    want += (double) da[r * atomsCount + d] * dd[d * taps + t];
                }
                assertEquals(want, k[r * taps + t], 1e-5 * (1 + Math.abs(want)), atoms + " kernel [" + r + ", " + t + "]");
            }
        }
        return 1;
    }

    private static long floatBytes(Model m) {
        long b = 0;
        for (Tensor t : m.graph().initializers().values()) {
            b += t.isFloat() ? t.byteSize() : 0;
        }
        return b;
    }

    /**
     * The static QDQ model's logits in ONNX Runtime (its fused int8 kernels) equal a plain-Java
     * interpreter of the same Q/DQ graph far more closely than either equals the float model: the
     * quantization is the one the graph states, and it is really applied.
     */
    @Test
    void staticInt8MatchesAPlainJavaReference() {
        for (boolean decomposed : new boolean[] {false, true}) {
            Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
            if (decomposed) {
                Compressor.compress(m, Settings.of("layer", "3", "8", null, null), x -> { });
            }
            CalibrationImages im = images(48, 7);
            for (RangeStatistics.Method method : RangeStatistics.Method.values()) {
                // the ACDC model with one scale per atom, short names and local functions: ONNX Runtime runs the
                // file with functions, the reference the graph read back (inlined)
                Quantization.Outcome q = Quantization.run(m, new Quantization.Request(Quantizer.Mode.STATIC, method,
                        99.9, null, decomposed ? Quantizer.CoefficientScales.ATOM : Quantizer.CoefficientScales.ROW,
                        decomposed, decomposed), im, x -> { });
                long qdq = q.model().graph().nodes().stream().filter(n -> n.is("QuantizeLinear")).count();
                assertTrue(qdq >= 5, "activations quantized: " + qdq);
                assertTrue(q.model().graph().nodes().stream().noneMatch(n -> n.is("Relu")), "every ReLU folded");
                byte[] bytes = OnnxModels.toBytes(q.model());
                float[] ort = run(bytes, im);
                float[] fl = run(OnnxModels.toBytes(m), im);
                // the reference reads the QDQ graph ONNX Runtime folded nothing of
                Model ref = OnnxModels.fromBytes(bytes, null);
                double[] x = new double[im.x().length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = im.x()[i];
                }
                long[] shape = {im.count(), 3, 8, 8};
                double[] r = QdqReference.run(ref, x, shape).v();
                double refErr = 0;
                double quantErr = 0;
                double scale = 0;
                for (int i = 0; i < ort.length; i++) {
                    refErr = Math.max(refErr, Math.abs(ort[i] - r[i]));
                    quantErr = Math.max(quantErr, Math.abs(ort[i] - fl[i]));
                    scale = Math.max(scale, Math.abs(fl[i]));
                }
                String what = (decomposed ? "ACDC " : "dense ") + method;
                assertTrue(quantErr > 1e-3 * scale, what + ": quantization changes the logits (" + quantErr + ")");
                assertTrue(quantErr < 0.1 * scale, what + ": by little (" + quantErr + " of " + scale + ")");
                assertTrue(refErr < 0.25 * quantErr, what + ": ONNX Runtime " + refErr + " from the reference, "
                        + quantErr + " from the float model");
                assertTrue(q.layerErrors().size() >= 3);
                assertTrue(q.model().metadata().get(Quantization.METADATA_KEY).replace(" ", "").contains("\"mode\":\"int8\""),
                        q.model().metadata().toString());
            }
        }
    }

    /**
     * ONNX Runtime fuses every quantized Conv of the static QDQ model, dense and ACDC (its kernel computed
     * by a chain, its bias scale by a Mul), into its int8 kernel: the optimized graph it writes has no
     * float Conv left, one QLinearConv per quantized conv, and no weight chain left to run.
     */
    @Test
    void onnxRuntimeFusesEveryQuantizedConv(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws ai.onnxruntime.OrtException {
        for (int variant = 0; variant < 3; variant++) {
            boolean decomposed = variant > 0;
            Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
            if (decomposed) {
                Compressor.compress(m, Settings.of("layer", "3", "8", null, null), x -> { });
            }
            if (variant == 2) {
                m.setOpset(18); // the same operators mean the same there; ReduceMax takes its axes as an input
            }
            for (Quantizer.CoefficientScales scales : Quantizer.CoefficientScales.values()) {
                boolean functions = (variant + scales.ordinal()) % 2 == 1; // each model and scale with and without
                Quantization.Outcome q = Quantization.run(m, new Quantization.Request(Quantizer.Mode.STATIC,
                        RangeStatistics.Method.MINMAX, 99.9, null, scales, decomposed, functions), images(16, 3), x -> { });
                long convs = q.model().graph().nodes().stream().filter(n -> n.is("Conv")).count();
                if (functions) {
                    q.model().setLocalFunctions(false);
                    long plain = OnnxModels.toBytes(q.model()).length;
                    q.model().setLocalFunctions(true);
                    assertTrue(OnnxModels.toBytes(q.model()).length < plain, "local functions make the file smaller");
                }
                java.nio.file.Path optimized = dir.resolve("optimized-" + variant + "-" + scales.id() + ".onnx");
                try (ai.onnxruntime.OrtSession.SessionOptions o = new ai.onnxruntime.OrtSession.SessionOptions()) {
                    o.setOptimizationLevel(ai.onnxruntime.OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
                    o.setOptimizedModelFilePath(optimized.toString());
                    Sessions.env().createSession(OnnxModels.toBytes(q.model()), o).close();
                }
                Map<String, Long> ops = new java.util.TreeMap<>();
                for (Node n : OnnxModels.load(optimized).graph().nodes()) {
                    ops.merge(n.opType(), 1L, Long::sum);
                }
                String what = (decomposed ? "ACDC " : "dense ") + scales.id() + " opset " + q.model().opset()
                        + (functions ? " with local functions" : "") + ": " + ops;
                if (variant == 2) {
                    assertTrue(q.model().graph().nodes().stream().anyMatch(n -> n.is("ReduceMax") && n.inputs().size() == 2),
                            what + ": axes as an input");
                }
                assertTrue(convs >= 3, what);
                assertEquals(0L, ops.getOrDefault("Conv", 0L), what);
                assertEquals(convs, ops.getOrDefault("QLinearConv", 0L), what);
                assertEquals(0L, ops.getOrDefault("MatMul", 0L) + ops.getOrDefault("Cast", 0L), what + ": chains folded");
                if (decomposed && scales == Quantizer.CoefficientScales.ROW) {
                    // the per-row coefficient scales are stored as one-byte codes, decoded by a chain folded too
                    assertTrue(q.model().graph().initializers().values().stream()
                            .anyMatch(t -> t.type() == dev.acdc.ir.DataType.UINT8 && t.shape().length == 2
                                    && t.shape()[0] >= 32), what + ": coded scales");
                    assertEquals(0L, ops.getOrDefault("Exp", 0L), what + ": the decoding folded");
                }
            }
        }
    }

    /**
     * A pooled value whose range is thousands of times narrower than its input's (a branch and its near-negation
     * concatenated, then averaged: what a random-weight EfficientNet's head does): ONNX Runtime's
     * QLinearGlobalAveragePool refused the factor ("parameter out of computation range": quantize failed, exit 2),
     * so the pooled range is widened, a note says so, and the int8 model runs and stays near the float one.
     */
    @Test
    void aPooledRangeFarNarrowerThanItsInputIsWidenedForOnnxRuntime() {
        Model m = pooledHead(-0.9999f, 1f);
        Quantization.Outcome q = staticInt8(m);
        assertTrue(q.result().notes().stream().anyMatch(n -> n.contains("QLinearGlobalAveragePool")), q.result().notes()
                .toString());
        CalibrationImages im = images(16, 7);
        float[] a = run(OnnxModels.toBytes(m), im);
        float[] c = run(OnnxModels.toBytes(q.model()), im);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - c[i]));
        }
        // the pooled value keeps a step of 1/200 of its input's, coarse next to its own tiny range: close, not exact
        assertTrue(diff <= 0.5 * scale, "int8 output within half the float one's scale: " + diff + " of " + scale);
    }

    /**
     * x beside x·k (along the rows), times s, averaged over the plane, then a Gemm to 2 outputs: with k near −1
     * the pooled value is far narrower than its input (what a random-weight EfficientNet's head does).
     */
    private static Model pooledHead(float k, float s) {
        dev.acdc.ir.GraphBuilder b = dev.acdc.ir.GraphBuilder.create("pool_head");
        String x = b.input("x", DataType.FLOAT, -1, 3, 8, 8);
        String neg = b.op("Mul", "near_neg", x, b.initializer("k", new long[] {1}, new float[] {k}));
        String cat = b.op("Concat", "cat", java.util.List.of(x, neg), dev.acdc.ir.Attribute.ofInt("axis", 2));
        String scaled = s == 1f ? cat : b.op("Mul", "scaled", cat, b.initializer("s", new long[] {1}, new float[] {s}));
        String pooled = b.op("GlobalAveragePool", "pool", scaled);
        String flat = b.op("Flatten", "flat", pooled);
        String w = b.initializer("w", new long[] {2, 3}, ModelGenerators.randn(new java.util.Random(1), 6, 1));
        String y = b.op("Gemm", "fc", java.util.List.of(flat, w), dev.acdc.ir.Attribute.ofInt("transB", 1));
        b.output(y, DataType.FLOAT, -1, 2);
        return Model.of(b.graph(), 13);
    }

    /** Static int8 with min–max ranges on 16 images. */
    private static Quantization.Outcome staticInt8(Model m) {
        return Quantization.run(m, new Quantization.Request(Quantizer.Mode.STATIC, RangeStatistics.Method.MINMAX, 99.9,
                null, Quantizer.CoefficientScales.ROW, false, false), images(16, 3), msg -> { });
    }

    /**
     * Activations that vanish before the pool (a random-weight EfficientNet's head: about 1e-13): the pooled range
     * is under the 1e-12 that quantizes at all (scale 1) while its input's is not, and ONNX Runtime's
     * QLinearGlobalAveragePool refused the ratio of their scales (under 2^-32). The output takes the input's
     * parameters, a note says so, and the int8 model runs.
     */
    @Test
    void aPooledRangeTooSmallToQuantizeTakesItsInputsParameters() {
        // x and −x side by side, scaled to 1e-12: the input spans 2e-12, its mean is 0
        Quantization.Outcome q = staticInt8(pooledHead(-1f, 1e-12f));
        assertTrue(q.result().notes().stream().anyMatch(n -> n.contains("with its input's range")), q.result().notes()
                .toString());
        float[] c = run(OnnxModels.toBytes(q.model()), images(16, 7));
        assertTrue(c.length == 32 && java.util.stream.IntStream.range(0, c.length).allMatch(i -> Float.isFinite(c[i])));
    }

    /**
     * FoldChannelAffine keeps the function (ONNX Runtime before and after) and leaves no Conv → Mul → Add,
     * on a stored weight and on an ACDC kernel chain.
     */
    @Test
    void channelAffineFoldsIntoTheConv() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
        Compressor.compress(m, Settings.of("layer", "3", "8", null, null), x -> { });
        dev.acdc.passes.PassManager.standard().run(m);
        java.util.Random r = new java.util.Random(5);
        int inserted = 0;
        for (Node conv : new ArrayList<>(m.graph().nodes())) {
            if (!conv.is("Conv")) {
                continue;
            }
            String y = conv.output(0);
            String s = "s" + inserted;
            String t = "t" + inserted;
            m.graph().putInitializer(Tensor.ofFloats(s, new long[] {16, 1, 1}, ModelGenerators.positive(r, 16)));
            m.graph().putInitializer(Tensor.ofFloats(t, new long[] {1, 16, 1, 1}, ModelGenerators.randn(r, 16, 0.3)));
            String c = y + "_pre";
            conv.setOutput(0, c);
            int at = m.graph().nodes().indexOf(conv) + 1;
            m.graph().nodes().add(at, new Node("mul" + inserted, "Mul", List.of(c, s), List.of(c + "_m"), List.of()));
            m.graph().nodes().add(at + 1, new Node("add" + inserted, "Add", List.of(c + "_m", t), List.of(y), List.of()));
            inserted++;
        }
        CalibrationImages im = images(8, 2);
        float[] before = run(OnnxModels.toBytes(m), im);
        int folded = new dev.acdc.passes.FoldChannelAffine().run(m);
        assertEquals(inserted, folded);
        assertTrue(m.graph().nodes().stream().noneMatch(n -> n.name().startsWith("mul") || n.name().startsWith("add")));
        float[] after = run(OnnxModels.toBytes(m), im);
        for (int i = 0; i < before.length; i++) {
            assertEquals(before[i], after[i], 1e-4 * (1 + Math.abs(before[i])), "logit " + i);
        }
    }
}
