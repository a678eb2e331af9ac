package dev.acdc.train;

import dev.acdc.data.SyntheticDataset;

import dev.acdc.AcdcException;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @BeforeAll
    static void backend() {
        Nd4jSetup.init();
    }

    /** A tiny residual net (3×8×8 → 5) compressed with --share=net, group 8, 4 atoms. */
    static Model compressedTiny(long seed) {
        Model m = ModelGenerators.residual(3, 8, 16, 5, seed);
        Compressor.compress(m, Settings.of("net", "4", "8", null, null), s -> { });
        return m;
    }

    static Teacher ortTeacher(byte[] model) {
        return (x, n, shape) -> Ort.run(model, x, new long[] {n, shape[0], shape[1], shape[2]});
    }

    /** Central differences along a random direction, for the coefficients and each conv's atoms. */
    @Test
    void gradientsOfADecomposedConvolutionMatchFiniteDifferences() {
        Model m = compressedTiny(3);
        SameDiffGraph g = SameDiffGraph.build(m, n -> n.endsWith("/coefficients") || n.endsWith("/atoms"));
        assertEquals(3, g.variables().size(), "one shared coefficient tensor, two convs' atoms");
        checkGradients(g, 1e-3, 0.03);
    }

    /**
     * Through a decomposed ConvTranspose (its kernel computed by the ACDC chain, lowered as the convolution
     * it is the transpose of): the forward equals ONNX Runtime's and the gradients of its coefficients and
     * atoms equal central differences.
     */
    @Test
    void gradientsOfADecomposedTransposedConvolutionMatchFiniteDifferences() {
        Model m = ModelGenerators.withTransposedConv(3, 8, 16, 5, 1, 3);
        Compressor.compress(m, Settings.of("layer", "4", "8", null, null), s -> { });
        long[] shape = {4, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 2);
        float[] ort = Ort.run(OnnxModels.toBytes(m), x, shape);
        SameDiffGraph g = SameDiffGraph.build(m, n -> n.contains("acdc/up/") && (n.endsWith("/coefficients") || n.endsWith("/atoms")));
        float[] sd = g.output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        assertTrue(Ort.maxAbsDiff(ort, sd) <= 1e-4, "forward: max |SameDiff - ONNX Runtime| " + Ort.maxAbsDiff(ort, sd));
        assertEquals(2, g.variables().size(), "the transposed conv's coefficients and atoms: " + g.variables());
        checkGradients(g, 1e-3, 0.03);
    }

    /**
     * Through factored 1x1 convs (a MobileNetV2-like block: expand, depthwise, project, and a 1x1 head), in both
     * written forms: the forward equals ONNX Runtime's and the gradients of each pointwise set's coefficients and
     * atoms equal central differences.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reconstruct", "factorized"})
    void gradientsOfFactoredPointwiseConvsMatchFiniteDifferences(String form) {
        Model m = ModelGenerators.invertedResidual(3, 8, 64, 256, 256, 5, 4);
        Compressor.compress(m, Settings.of("layer", null, null, form, null), s -> { });
        long[] shape = {4, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 2);
        float[] ort = Ort.run(OnnxModels.toBytes(m), x, shape);
        SameDiffGraph g = SameDiffGraph.build(m, n -> n.endsWith("/coefficients") || n.endsWith("/atoms"));
        float[] sd = g.output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        assertTrue(Ort.maxAbsDiff(ort, sd) <= 1e-4, "forward: max |SameDiff - ONNX Runtime| " + Ort.maxAbsDiff(ort, sd));
        assertEquals(6, g.variables().size(), "expand, project and head: coefficients and atoms each: " + g.variables());
        checkGradients(g, 1e-3, 0.03);
        // a 100-class head is written as a 1x1 conv (Reshape, Conv, Flatten) and factored: it lowers too
        Model wide = ModelGenerators.invertedResidual(3, 8, 64, 256, 256, 100, 4);
        Compressor.compress(wide, Settings.of("layer", null, null, form, null), s -> { });
        assertTrue(wide.graph().nodes().stream().noneMatch(n -> n.is("Gemm")));
        float[] ortWide = Ort.run(OnnxModels.toBytes(wide), x, shape);
        float[] sdWide = SameDiffGraph.build(wide, n -> false).output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        assertTrue(Ort.maxAbsDiff(ortWide, sdWide) <= 1e-4, "head: max |SameDiff - ONNX Runtime| " + Ort.maxAbsDiff(ortWide, sdWide));
    }

    /** The same with training-mode BatchNormalization after every conv: batch statistics are differentiated too. */
    @Test
    void gradientsThroughTrainingModeBatchNormMatchFiniteDifferences() {
        Model m = compressedTiny(3);
        Nd4j.getRandom().setSeed(5);
        INDArray calib = Nd4j.randn(DataType.FLOAT, 8, 3, 8, 8);
        TrainingBatchNorm.insert(m, SameDiffGraph.build(m, n -> false).channelStats(calib, TrainingBatchNorm.convOutputs(m)));
        SameDiffGraph g = SameDiffGraph.build(m, n -> n.endsWith("/coefficients") || n.endsWith("/atoms")
                || n.endsWith("/bn/scale") || n.endsWith("/bn/bias"), true);
        assertEquals(3 + 2 * 3, g.variables().size(), "coefficients, two atoms, scale and bias of three BNs");
        assertEquals(3 * 2, g.batchStatOutputs().size());
        // a coarse check in the network: a finite step moves batch-normalised values (many near 0) across
        // ReLU kinks, and the difference quotient is off by a few per cent; the exact check of the BN
        // gradient is batchNormGradientsMatchFiniteDifferences
        checkGradients(g, 1e-3, 0.1);
    }

    /**
     * Through the elementwise operators detectors and audio nets carry (a Where on a Greater mask, Max, Min, Pow,
     * Tanh, Exp, Sqrt, Reciprocal, an Equal mask cast to float): the gradients of the conv and head weights
     * before them equal central differences, so a model with them fine-tunes.
     */
    @Test
    void gradientsThroughMasksMaxMinAndPowMatchFiniteDifferences() {
        java.util.Random r = new java.util.Random(5);
        dev.acdc.ir.GraphBuilder b = dev.acdc.ir.GraphBuilder.create("masks");
        String x = b.input("input", dev.acdc.ir.DataType.FLOAT, -1, 3, 8, 8);
        String w = b.initializer("w", new long[] {8, 3, 3, 3}, ModelGenerators.randn(r, 216, 0.4));
        String h = b.conv("c", x, w, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
        String zero = b.initializer("zero", new long[0], new float[] {0f});
        String leak = b.op("Mul", "leak", h, b.initializer("k", new long[0], new float[] {0.1f}));
        h = b.op("Where", "where", b.op("Greater", "gt", h, zero), h, leak);
        h = b.op("Max", "max", h, b.op("Neg", "neg", h), b.initializer("floor", new long[0], new float[] {0.05f}));
        h = b.op("Min", "min", h, b.initializer("cap", new long[0], new float[] {2f}));
        h = b.op("Add", "pow_add", b.op("Pow", "pow", h, b.initializer("two", new long[0], new float[] {2f})),
                b.op("Tanh", "tanh", h));
        h = b.op("Mul", "mix", b.op("Sqrt", "sqrt", h), b.op("Reciprocal", "rec", b.op("Exp", "exp", b.op("Neg", "n2", h))));
        h = b.op("Add", "flag", h, b.op("Cast", "cast", List.of(b.op("Equal", "eq", h, zero)),
                dev.acdc.ir.Attribute.ofInt("to", dev.acdc.ir.DataType.FLOAT.code())));
        String p = b.op("Flatten", "flat", List.of(b.op("GlobalAveragePool", "gap", h)), dev.acdc.ir.Attribute.ofInt("axis", 1));
        String fw = b.initializer("fc", new long[] {5, 8}, ModelGenerators.randn(r, 40, 0.5));
        String y = b.op("Gemm", "head", List.of(p, fw), dev.acdc.ir.Attribute.ofInt("transB", 1));
        b.output(y, dev.acdc.ir.DataType.FLOAT, -1, 5);
        SameDiffGraph g = SameDiffGraph.build(Model.of(b.graph(), 13), n -> n.equals("w") || n.equals("fc"));
        assertEquals(java.util.Set.of("w", "fc"), g.variables());
        checkGradients(g, 1e-3, 0.05);
    }

    private static void checkGradients(SameDiffGraph g, double eps, double tolerance) {
        Distillation.add(g, 5, 4, 0.9, 0.1, true);
        SameDiff sd = g.sameDiff();
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 8, 8);
        INDArray t = Nd4j.randn(DataType.FLOAT, 4, 5).muli(3);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 5);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i % 5, 1);
        }
        Map<String, INDArray> ph = Map.of(SameDiffGraph.INPUT, x, Distillation.TEACHER, t, Distillation.LABELS, y);
        List<String> names = new ArrayList<>();
        g.variables().forEach(v -> names.add(g.sdName(v)));
        Map<String, INDArray> grads = sd.calculateGradients(ph, names);
        for (String v : names) {
            INDArray w = sd.getArrForVarName(v);
            // along the gradient (plus noise), so the directional derivative stands well above float rounding
            INDArray gv = grads.get(v);
            INDArray d = gv.div(gv.norm2Number().doubleValue()).addi(Nd4j.randn(DataType.FLOAT, w.shape())
                    .muli(0.3 / Math.sqrt(w.length()))).muli(Math.max(1, w.norm2Number().doubleValue()));
            double analytic = grads.get(v).castTo(DataType.DOUBLE).mul(d.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
            INDArray w0 = w.dup();
            assertTrue(Math.abs(analytic) > 1e-3, v + ": the probe direction must carry signal");
            w.assign(w0.add(d.mul(eps)));
            double lp = sd.output(ph, Distillation.LOSS).get(Distillation.LOSS).getDouble(0);
            w.assign(w0.sub(d.mul(eps)));
            double lm = sd.output(ph, Distillation.LOSS).get(Distillation.LOSS).getDouble(0);
            w.assign(w0);
            double fd = (lp - lm) / (2 * eps);
            assertEquals(fd, analytic, tolerance * Math.max(1e-2, Math.abs(fd)), v + ": finite difference vs gradient");
        }
    }

    /** The training-mode BN alone (x → BN → Σ(y − t)²), γ and β, per component by central differences. */
    @Test
    void batchNormGradientsMatchFiniteDifferences() {
        int c = 4;
        dev.acdc.ir.GraphBuilder b = dev.acdc.ir.GraphBuilder.create("bn");
        String x = b.input("input", dev.acdc.ir.DataType.FLOAT, -1, c, 3, 3);
        java.util.Random r = new java.util.Random(3);
        float[] gamma = new float[c];
        float[] beta = new float[c];
        for (int i = 0; i < c; i++) {
            gamma[i] = 0.5f + r.nextFloat();
            beta[i] = (float) r.nextGaussian() * 0.1f;
        }
        String y = b.op("BatchNormalization", "bn", List.of(x, b.initializer("bn/scale", new long[] {c}, gamma),
                b.initializer("bn/bias", new long[] {c}, beta), b.initializer("bn/mean", new long[] {c}, new float[c]),
                b.initializer("bn/var", new long[] {c}, new float[] {1, 1, 1, 1})));
        b.output(y, dev.acdc.ir.DataType.FLOAT, -1, c, 3, 3);
        SameDiffGraph g = SameDiffGraph.build(Model.of(b.graph(), 13), n -> n.endsWith("scale") || n.endsWith("bias"), true);
        assertEquals(java.util.Set.of("bn/scale", "bn/bias"), g.variables(), "running statistics are not trained");
        SameDiff sd = g.sameDiff();
        Nd4j.getRandom().setSeed(3);
        INDArray xv = Nd4j.randn(DataType.FLOAT, 5, c, 3, 3).muli(2).addi(1);
        INDArray t = Nd4j.randn(DataType.FLOAT, 5, c, 3, 3);
        sd.math().square(g.logits().sub(sd.constant(t))).sum().rename("sq");
        sd.setLossVariables("sq");
        Map<String, INDArray> ph = Map.of(SameDiffGraph.INPUT, xv);
        Map<String, INDArray> grads = sd.calculateGradients(ph, List.of(g.sdName("bn/scale"), g.sdName("bn/bias")));
        for (String v : List.of(g.sdName("bn/scale"), g.sdName("bn/bias"))) {
            INDArray w = sd.getArrForVarName(v);
            for (int i = 0; i < c; i++) {
                float w0 = w.getFloat(i);
                double eps = 1e-2;
                w.putScalar(i, w0 + eps);
                double lp = sd.output(ph, "sq").get("sq").getDouble(0);
                w.putScalar(i, w0 - eps);
                double lm = sd.output(ph, "sq").get("sq").getDouble(0);
                w.putScalar(i, w0);
                double fd = (lp - lm) / (2 * eps);
                // the loss is quadratic in γ and β, so central differences are exact but for float rounding of
                // a sum of 180 squares (~0.2 % here)
                assertEquals(fd, grads.get(v).getDouble(i), 1e-2 * Math.max(1, Math.abs(fd)), v + "[" + i + "]");
            }
        }
    }

    /**
     * The gradient that reaches the layer before a training-mode BN (x → 1×1 conv W → BN → Σ t·(y − t)²),
     * per component of W by central differences. It checks that the fused backward pass differentiates
     * through the batch statistics exactly once: batch statistics make the output invariant to scaling a
     * row of W, so ∂L/∂W_c · W_c must vanish — it would not if the statistics' terms were missing, and
     * would be off if they were counted twice.
     */
    @Test
    void gradientBeforeATrainingModeBatchNormMatchesFiniteDifferences() {
        int c = 3;
        dev.acdc.ir.GraphBuilder b = dev.acdc.ir.GraphBuilder.create("conv-bn");
        String x = b.input("input", dev.acdc.ir.DataType.FLOAT, -1, c, 4, 4);
        java.util.Random r = new java.util.Random(11);
        float[] w = new float[c * c];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        String conv = b.op("Conv", "conv", List.of(x, b.initializer("conv/w", new long[] {c, c, 1, 1}, w)));
        String y = b.op("BatchNormalization", "bn", List.of(conv,
                b.initializer("bn/scale", new long[] {c}, new float[] {1.5f, 0.7f, 1.1f}),
                b.initializer("bn/bias", new long[] {c}, new float[] {0.1f, -0.2f, 0.3f}),
                b.initializer("bn/mean", new long[] {c}, new float[c]),
                b.initializer("bn/var", new long[] {c}, new float[] {1, 1, 1})));
        b.output(y, dev.acdc.ir.DataType.FLOAT, -1, c, 4, 4);
        SameDiffGraph g = SameDiffGraph.build(Model.of(b.graph(), 13), n -> n.equals("conv/w"), true);
        SameDiff sd = g.sameDiff();
        Nd4j.getRandom().setSeed(4);
        INDArray xv = Nd4j.randn(DataType.FLOAT, 6, c, 4, 4).castTo(DataType.DOUBLE).castTo(DataType.FLOAT);
        SDVariable t = sd.constant(Nd4j.randn(DataType.FLOAT, 6, c, 4, 4));
        sd.math().square(g.logits().sub(t)).mul(t).sum().rename("loss3");
        sd.setLossVariables("loss3");
        Map<String, INDArray> ph = Map.of(SameDiffGraph.INPUT, xv);
        String wn = g.sdName("conv/w");
        INDArray grad = sd.calculateGradients(ph, List.of(wn)).get(wn).dup();
        INDArray wv = sd.getArrForVarName(wn);
        assertEquals(c * c, grad.length());
        double[] g0 = grad.castTo(DataType.DOUBLE).data().asDouble();
        double[] w0 = wv.castTo(DataType.DOUBLE).data().asDouble();
        double gradNorm = 0;
        for (double v : g0) {
            gradNorm = Math.max(gradNorm, Math.abs(v));
        }
        assertTrue(gradNorm > 0.1, "the probe must carry signal: " + gradNorm);
        for (int i = 0; i < g0.length; i++) {
            double eps = 1e-2;
            float keep = wv.getFloat(i);
            wv.putScalar(i, keep + eps);
            double lp = sd.output(ph, "loss3").get("loss3").getDouble(0);
            wv.putScalar(i, keep - eps);
            double lm = sd.output(ph, "loss3").get("loss3").getDouble(0);
            wv.putScalar(i, keep);
            double fd = (lp - lm) / (2 * eps);
            assertEquals(fd, g0[i], 0.02 * Math.max(1, Math.abs(fd)), "conv/w[" + i + "]: finite difference vs gradient");
        }
        // ND4J keeps W as [kH, kW, iC, oC]: output channel o's weights are every c-th value from o
        for (int o = 0; o < c; o++) {
            double dot = 0;
            for (int i = 0; i < c; i++) {
                dot += g0[i * c + o] * w0[i * c + o];
            }
            assertEquals(0, dot, 1e-3 * gradNorm, "scaling output channel " + o + "'s weights changes nothing");
        }
    }

    /** Training-mode BN against plain loops: per-channel batch mean and biased variance over N·H·W. */
    @Test
    void trainingModeBatchNormNormalisesByBatchStatistics() {
        Model m = compressedTiny(4);
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 8, 8);
        List<String> convs = TrainingBatchNorm.convOutputs(m);
        Map<String, float[][]> stats = SameDiffGraph.build(m, n -> false).channelStats(x, convs);
        // the stem conv's output, by hand
        SameDiffGraph plain = SameDiffGraph.build(m, n -> false);
        float[] conv = plain.sameDiff().output(Map.of(SameDiffGraph.INPUT, x), List.of(plain.valueName(convs.get(0))))
                .values().iterator().next().dup('c').data().asFloat();
        int n = 6;
        int c = 16;
        int hw = 64;
        float[] scale = new float[c];
        float[] bias = new float[c];
        for (int k = 0; k < c; k++) {
            scale[k] = 1.5f + 0.1f * k;
            bias[k] = -0.2f * k;
        }
        TrainingBatchNorm.insert(m, stats);
        String bn = m.graph().consumers(convs.get(0)).get(0).name();
        m.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats(bn + "/scale", new long[] {c}, scale));
        m.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats(bn + "/bias", new long[] {c}, bias));
        SameDiffGraph g = SameDiffGraph.build(m, v -> false, true);
        String out = m.graph().consumers(convs.get(0)).get(0).output(0);
        float[] got = g.sameDiff().output(Map.of(SameDiffGraph.INPUT, x), List.of(g.valueName(out)))
                .values().iterator().next().dup('c').data().asFloat();
        for (int k = 0; k < c; k++) {
            double mean = 0;
            double sq = 0;
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < hw; p++) {
                    mean += conv[(i * c + k) * hw + p];
                }
            }
            mean /= n * hw;
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < hw; p++) {
                    double d = conv[(i * c + k) * hw + p] - mean;
                    sq += d * d;
                }
            }
            double var = sq / (n * hw);
            assertEquals(mean, stats.get(convs.get(0))[0][k], 1e-4);
            assertEquals(var, stats.get(convs.get(0))[1][k], 1e-4 * Math.max(1, var));
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < hw; p++) {
                    int at = (i * c + k) * hw + p;
                    double want = scale[k] * (conv[at] - mean) / Math.sqrt(var + TrainingBatchNorm.EPSILON) + bias[k];
                    assertEquals(want, got[at], 1e-3 * Math.max(1, Math.abs(want)), "channel " + k);
                }
            }
        }
    }

    /**
     * A BN that starts at the teacher's statistics undoes any per-channel affine change of a conv's
     * output: a student whose convs have every output channel scaled and shifted computes the teacher's
     * logits again on the calibration batch (in inference mode, with the running statistics it starts
     * with); BNs that start as the identity keep the change.
     */
    @Test
    void batchNormStartingAtTheTeachersStatisticsRestoresItsFunction() {
        long[] shape = {16, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 5);
        Model teacher = ModelGenerators.residual(3, 8, 16, 5, 11);
        float[] want = Ort.run(teacher, x, shape);
        float[] changed = null;
        for (boolean restore : new boolean[] {false, true}) {
            Model student = ModelGenerators.residual(3, 8, 16, 5, 11);
            dev.acdc.passes.PassManager.standard().run(student);
            java.util.Random r = new java.util.Random(2);
            for (Node conv : student.graph().nodes()) {
                if (!conv.is("Conv")) {
                    continue;
                }
                Tensor w = student.graph().initializer(conv.input(1));
                Tensor b = student.graph().initializer(conv.input(2));
                float[] wv = w.floats();
                float[] bv = b.floats();
                int per = wv.length / bv.length;
                for (int o = 0; o < bv.length; o++) {
                    float c = (float) (0.3 + 2 * r.nextDouble());
                    for (int i = 0; i < per; i++) {
                        wv[o * per + i] *= c;
                    }
                    bv[o] = bv[o] * c + (float) r.nextGaussian();
                }
                student.graph().putInitializer(Tensor.ofFloats(w.name(), w.shape(), wv));
                student.graph().putInitializer(Tensor.ofFloats(b.name(), b.shape(), bv));
            }
            int restored = Nd4jBackend.insertBatchNorm(student, x, 16, new long[] {3, 8, 8},
                    restore ? ModelGenerators.residual(3, 8, 16, 5, 11) : null);
            float[] got = Ort.run(student, x, shape);
            if (restore) {
                assertEquals(3, restored, "every conv has a counterpart in the teacher");
                assertTrue(Ort.maxAbsDiff(want, got) <= 2e-3 * (1 + maxAbs(want)),
                        "the teacher's logits again: " + Ort.maxAbsDiff(want, got));
            } else {
                assertEquals(0, restored);
                changed = got;
            }
        }
        assertTrue(Ort.maxAbsDiff(want, changed) > 0.1, "the change is large without the restoring start");
    }

    /**
     * After {@link dev.acdc.passes.NormalizeFilters}, the BN put after each conv absorbs the filter scale
     * that follows it: no scale Mul is left, and the model computes what conv then scale computed.
     */
    @Test
    void batchNormAbsorbsTheFilterScale() {
        long[] shape = {8, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 3);
        Model n = ModelGenerators.residual(3, 8, 16, 5, 6);
        dev.acdc.passes.PassManager.standard().run(n);
        new dev.acdc.passes.PassManager(List.of(new dev.acdc.passes.NormalizeFilters(0.25))).run(n);
        Compressor.compress(n, Settings.of("net", "4", "8", null, null), s -> { });
        assertEquals(3, n.graph().nodes().stream().filter(v -> v.is("Mul") && v.input(1).endsWith("/filter_scale")).count());
        float[] compressed = Ort.run(n, x, shape);
        TrainingBatchNorm.insert(n, SameDiffGraph.build(n, v -> false)
                .channelStats(Nd4j.create(x, shape, 'c'), TrainingBatchNorm.convOutputs(n)));
        assertEquals(0, n.graph().nodes().stream().filter(v -> v.is("Mul") && v.input(1).endsWith("/filter_scale")).count(),
                "every scale is absorbed");
        assertEquals(3, n.graph().nodes().stream().filter(v -> v.is("BatchNormalization")).count());
        assertTrue(Ort.maxAbsDiff(compressed, Ort.run(n, x, shape)) <= 1e-4, "the BNs compute conv then scale");
    }

    /** Inserted BNs leave the model's function unchanged in inference mode, and fold away for export. */
    @Test
    void insertedBatchNormIsTheIdentityAndFoldsAway() {
        Model m = compressedTiny(6);
        long[] shape = {8, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 3);
        float[] before = Ort.run(m, x, shape);
        TrainingBatchNorm.insert(m, SameDiffGraph.build(m, n -> false)
                .channelStats(Nd4j.create(x, shape, 'c'), TrainingBatchNorm.convOutputs(m)));
        assertEquals(3, m.graph().nodes().stream().filter(n -> n.is("BatchNormalization")).count());
        assertTrue(Ort.maxAbsDiff(before, Ort.run(m, x, shape)) <= 1e-4, "identity on the calibration batch");
        // as training would: move the BNs away from the identity
        java.util.Random r = new java.util.Random(1);
        for (var t : List.copyOf(m.graph().initializers().values())) {
            if (t.name().contains("/bn/")) {
                float[] v = t.floats();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= (float) (t.name().endsWith("/var") ? 0.5 + r.nextDouble() : 0.8 + 0.4 * r.nextDouble());
                }
                m.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats(t.name(), t.shape(), v));
            }
        }
        float[] trained = Ort.run(m, x, shape);
        Trainer.foldBatchNorm(m);
        assertEquals(0, m.graph().nodes().stream().filter(n -> n.is("BatchNormalization")).count());
        assertEquals(2, m.graph().nodes().stream().filter(n -> n.is("Mul") && n.input(1).endsWith("/channel_scale")).count(),
                "the two decomposed convs get a per-channel scale; the stem's BN folds into its weights");
        assertTrue(Ort.maxAbsDiff(trained, Ort.run(m, x, shape)) <= 1e-4, "folding keeps the function");
        SameDiffGraph g = SameDiffGraph.build(m, n -> false);
        float[] sd = g.output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        assertTrue(Ort.maxAbsDiff(trained, sd) <= 1e-3, "SameDiff reads the folded form");
    }

    @Test
    void lossFallsOnATinyProblemAndTheExportMatchesSameDiff() {
        Model teacherModel = ModelGenerators.residual(3, 8, 16, 5, 11);
        byte[] teacher = OnnxModels.toBytes(teacherModel);
        Model student = compressedTiny(11);
        SyntheticDataset data = new SyntheticDataset(64, 3, 8, 8, 5, 1);
        TrainOptions o = TrainOptions.builder().epochs(6).maxSteps(0).batch(16).lr(0.01).optimizer("adam").momentum(0.9).weightDecay(0)
                .schedule(Schedule.Kind.CONSTANT).temperature(2).kdWeight(1.0).ceWeight(0.0).augment(false).train("all").seed(3).clip(5)
                .batchNorm(TrainOptions.BatchNormMode.FOLDED).build();
        List<Double> losses = new ArrayList<>();
        Trainer.Result r = Trainer.train(student, ortTeacher(teacher), data,
                Preprocessing.parse("1/255", "0.5", "0.25", null), o, null, new Trainer.Listener() {
                    @Override
                    public void step(int step, int total, int epoch, double loss, double norm, double ips) {
                    }

                    @Override
                    public void epoch(EpochRecord rec) {
                        losses.add(rec.loss());
                    }
                });
        assertEquals(6, r.epochs().size());
        assertEquals(24, r.steps());
        assertTrue(losses.get(5) < 0.5 * losses.get(0), "distillation loss falls: " + losses);
        // the file says it was fine-tuned, on what and how, and that survives writing it
        var meta = assertDoesNotThrow(() -> dev.acdc.util.Json.mapper().readTree(
                OnnxModels.fromBytes(OnnxModels.toBytes(student), null).metadata().get("acdc.finetuned")));
        assertEquals(6, meta.get("epochs").asInt());
        assertEquals(24, meta.get("steps").asInt());
        assertEquals(data.describe(), meta.get("data").asText());
        assertEquals("folded", meta.get("batchNorm").asText());
        // the written-back model, run by ONNX Runtime, equals the trained SameDiff graph
        SameDiffGraph g = SameDiffGraph.build(student, n -> false);
        long[] shape = {4, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 2);
        float[] sd = g.output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        assertTrue(Ort.maxAbsDiff(Ort.run(student, x, shape), sd) <= 1e-3);
        assertTrue(student.graph().initializers().keySet().stream().anyMatch(n -> n.endsWith("/atoms")),
                "the compact structure stays");
    }

    @Test
    void writeBackRestoresOnnxLayout() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 5);
        dev.acdc.passes.PassManager.standard().run(m);
        SameDiffGraph g = SameDiffGraph.build(m, n -> true);
        // perturb every variable, write back, compare ONNX Runtime with SameDiff
        for (String v : g.variables()) {
            INDArray w = g.sameDiff().getArrForVarName(g.sdName(v));
            w.addi(Nd4j.randn(DataType.FLOAT, w.shape()).muli(0.05));
        }
        g.writeBack();
        long[] shape = {2, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 4);
        float[] sd = g.output(Nd4j.create(x, shape, 'c')).dup('c').data().asFloat();
        assertTrue(Ort.maxAbsDiff(Ort.run(m, x, shape), sd) <= 1e-4);
    }

    /** The engine comes from the factory the caller gives: each step reaches it, and what it writes back is kept. */
    @Test
    void theBackendIsTheFactorys() {
        byte[] teacher = OnnxModels.toBytes(ModelGenerators.residual(3, 8, 16, 5, 11));
        SyntheticDataset data = new SyntheticDataset(32, 3, 8, 8, 5, 1);
        TrainOptions o = TrainOptions.builder().epochs(1).batch(16).lr(0.02).augment(false).build();
        int[] steps = {0};
        java.util.List<TrainingBackend> made = new java.util.ArrayList<>();
        TrainingBackend.Factory counting = (student, options, labels) -> {
            TrainingBackend nd4j = TrainingBackend.ND4J.create(student, options, labels);
            TrainingBackend b = (TrainingBackend) java.lang.reflect.Proxy.newProxyInstance(
                    TrainingBackend.class.getClassLoader(), new Class<?>[] {TrainingBackend.class}, (p, m, a) -> {
                        if (m.getName().equals("step")) {
                            steps[0]++;
                        }
                        try {
                            return m.invoke(nd4j, a);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            made.add(b);
            return b;
        };
        Model student = compressedTiny(11);
        Trainer.Result r = Trainer.train(student, ortTeacher(teacher), data, Preprocessing.defaults(), o, null, quiet(),
                null, false, null, counting);
        assertEquals(1, made.size());
        assertEquals(r.steps(), steps[0]);
        assertEquals(2, steps[0], "32 images in batches of 16");
    }

    @Test
    void resumedRunEndsWithTheSameWeights(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        byte[] teacher = OnnxModels.toBytes(ModelGenerators.residual(3, 8, 16, 5, 11));
        SyntheticDataset data = new SyntheticDataset(48, 3, 8, 8, 5, 1);
        Preprocessing pre = Preprocessing.parse("1/255", "0.5", "0.25", null);
        TrainOptions four = TrainOptions.builder().epochs(4).maxSteps(0).batch(16).lr(0.02).optimizer("sgd").momentum(0.9).weightDecay(5e-4)
                .schedule(Schedule.Kind.ONE_CYCLE).temperature(4).kdWeight(0.9).ceWeight(0.1).augment(true).train("all").seed(5).clip(5)
                .batchNorm(TrainOptions.BatchNormMode.TRAIN).build();
        Model straight = compressedTiny(11);
        Trainer.train(straight, ortTeacher(teacher), data, pre, four, null, quiet());
        // the same run stopped after epoch 2 (as if interrupted), then resumed from its checkpoint
        Model resumed = compressedTiny(11);
        Trainer.train(resumed, ortTeacher(teacher), data, pre, four, null, quiet(), tmp, false);
        Model halfway = compressedTiny(11);
        java.nio.file.Path ck = tmp.resolve("half");
        Trainer.Listener stopAfterTwo = new Trainer.Listener() {
            @Override
            public void step(int step, int total, int epoch, double loss, double norm, double ips) {
            }

            @Override
            public void epoch(EpochRecord rec) {
                if (rec.epoch() == 2) {
                    throw new IllegalStateException("interrupted");
                }
            }
        };
        assertThrows(IllegalStateException.class,
                () -> Trainer.train(halfway, ortTeacher(teacher), data, pre, four, null, stopAfterTwo, ck, false));
        Model cont = compressedTiny(11);
        Trainer.train(cont, ortTeacher(teacher), data, pre, four, null, quiet(), ck, true);
        // and stopped on request inside epoch 3 (what Ctrl-C does), then resumed
        java.nio.file.Path ck2 = tmp.resolve("stopped");
        StopSignal stop = new StopSignal(ck2);
        Trainer.Listener stopAtStep8 = new Trainer.Listener() {
            @Override
            public void step(int step, int total, int epoch, double loss, double norm, double ips) {
                if (step == 8) {
                    stop.request();
                }
            }

            @Override
            public void epoch(EpochRecord rec) {
            }
        };
        StopSignal.Stopped stopped = assertThrows(StopSignal.Stopped.class, () -> Trainer.train(compressedTiny(11),
                ortTeacher(teacher), data, pre, four, null, stopAtStep8, null, false, stop));
        assertEquals(StopSignal.EXIT_INTERRUPTED, stopped.exitCode());
        assertTrue(stopped.getMessage().startsWith("interrupted after step 8 (epoch 3)"), stopped.getMessage());
        Model afterStop = compressedTiny(11);
        Trainer.Result rest = Trainer.train(afterStop, ortTeacher(teacher), data, pre, four, null, quiet(), ck2, true);
        assertEquals(12, rest.steps());
        assertEquals(4, rest.epochs().size(), "the epoch records carry over");
        for (String name : straight.graph().initializers().keySet()) {
            var a = straight.graph().initializer(name);
            if (!a.isFloat()) {
                continue;
            }
            float[] x = a.floats();
            float[] y = cont.graph().initializer(name).floats();
            float[] z = resumed.graph().initializer(name).floats();
            float[] u = afterStop.graph().initializer(name).floats();
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], u[i], 1e-4 + 1e-3 * Math.abs(x[i]), name + "[" + i + "] after a stop inside an epoch");
                assertEquals(x[i], y[i], 1e-4 + 1e-3 * Math.abs(x[i]), name + "[" + i + "] after resume");
                assertEquals(x[i], z[i], 1e-5 + 1e-4 * Math.abs(x[i]), name + "[" + i + "] with checkpoints");
            }
        }
    }

    @Test
    void divergenceStopsNamingTheStep() {
        Model teacherModel = ModelGenerators.residual(3, 8, 16, 5, 11);
        Model student = compressedTiny(11);
        TrainOptions o = TrainOptions.builder().epochs(3).maxSteps(0).batch(16).lr(1e12).optimizer("sgd").momentum(0.9).weightDecay(0)
                .schedule(Schedule.Kind.CONSTANT).temperature(2).kdWeight(1.0).ceWeight(0.0).augment(false).train("all").seed(3).clip(0)
                .batchNorm(TrainOptions.BatchNormMode.FOLDED).build();
        AcdcException e = assertThrows(AcdcException.class, () -> Trainer.train(student,
                ortTeacher(OnnxModels.toBytes(teacherModel)), new SyntheticDataset(64, 3, 8, 8, 5, 1),
                Preprocessing.defaults(), o, null, quiet()));
        assertTrue(e.getMessage().matches("the loss became (NaN|Infinity|-Infinity) at step \\d+ .*"), e.getMessage());
    }

    @Test
    void emptyDataAndNothingToTrain() {
        Model student = compressedTiny(1);
        TrainOptions o = TrainOptions.defaults();
        assertThrows(AcdcException.class, () -> Trainer.train(student, (x, n, s) -> new float[n * 5],
                new SyntheticDataset(0, 3, 8, 8, 5, 1), Preprocessing.defaults(), o, null, quiet()));
        Model plain = ModelGenerators.residual(3, 8, 16, 5, 1);
        TrainOptions atoms = TrainOptions.builder().epochs(1).maxSteps(0).batch(16).lr(0.01).optimizer("sgd").momentum(0.9).weightDecay(0)
                .schedule(Schedule.Kind.CONSTANT).temperature(2).kdWeight(1).ceWeight(0).augment(false).train("atoms").seed(1).clip(5)
                .batchNorm(TrainOptions.BatchNormMode.FOLDED).build();
        AcdcException e = assertThrows(AcdcException.class, () -> Trainer.train(plain, (x, n, s) -> new float[n * 5],
                new SyntheticDataset(16, 3, 8, 8, 5, 1), Preprocessing.defaults(), atoms, null, quiet()));
        assertTrue(e.getMessage().contains("selects no weights"), e.getMessage());
    }

    static Trainer.Listener quiet() {
        return new Trainer.Listener() {
            @Override
            public void step(int step, int total, int epoch, double loss, double norm, double ips) {
            }

            @Override
            public void epoch(EpochRecord rec) {
            }
        };
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
