package dev.acdc.decompose;

import dev.acdc.AcdcException;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.UpgradeOpset;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pointwise (1×1) convs factored as W ≈ atomsᵀ·αᵀ, checked against oracles that share no code with the fit:
 * ONNX Runtime's outputs of the original, commons-math's SVD (the error identity) and QR (least squares).
 */
class PointwiseTest {
    /** stem 3→64 (dense: 3 channels), expand 64→256, depthwise 256, project 256→64, head 64→256, fc → 10. */
    static Model mobile() {
        return ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 10, 7);
    }

    static Model cleaned(Model m) {
        PassManager.standard().run(m);
        new PassManager(List.of(new UpgradeOpset(Compressor.EXPORT_OPSET))).run(m);
        return m;
    }

    static float[] weight(Model m, String conv) {
        for (Node n : m.graph().nodes()) {
            if (n.label().equals(conv)) {
                return m.graph().initializer(n.input(1)).floats();
            }
        }
        throw new AssertionError("no conv " + conv);
    }

    /** Every set at its full rank min(I, S): the factorization is exact. */
    static Map<String, Integer> fullRank(Model m, Settings s) {
        Map<String, Integer> atoms = new LinkedHashMap<>();
        Compressor.prepare(m, s);
        for (SharingSet set : Planner.plan(m, s).sets()) {
            atoms.put(set.id(), set.maxAtoms());
        }
        return atoms;
    }

    @ParameterizedTest
    @CsvSource({"layer,reconstruct", "layer,factorized", "net,reconstruct", "net,factorized"})
    void fullRankIsExactInOnnxRuntime(String share, String form) {
        Settings s = Settings.of(share, null, null, form, null);
        Map<String, Integer> full = fullRank(mobile(), s);
        assertEquals(share.equals("net") ? 2 : 3, full.size(), "pointwise sets: " + full);
        Model original = mobile();
        byte[] originalBytes = OnnxModels.toBytes(original);
        Compressor.Result r = Compressor.compress(mobile(), s.withSetAtoms(full), p -> { });
        assertEquals(3, r.plan().decomposed().stream().filter(c -> !c.spatial()).count());
        long[] shape = {4, 3, 16, 16};
        float[] x = Ort.randomInput(shape, 3);
        float[] a = Ort.run(originalBytes, x, shape);
        float[] b = Ort.run(OnnxModels.toBytes(r.model()), x, shape);
        assertTrue(Ort.relDiff(a, b) < 1e-4, "relative difference " + Ort.relDiff(a, b));
    }

    @Test
    void defaultRankKeepsAQuarterAndTheErrorIsTheDiscardedEnergy() {
        Model original = cleaned(mobile());
        Compressor.Result r = Compressor.compress(mobile(), Settings.defaults(), p -> { });
        Graph g = r.model().graph();
        for (String conv : List.of("expand", "project", "head")) {
            ConvPlan cp = r.plan().convs().stream().filter(c -> c.name().equals(conv)).findFirst().orElseThrow();
            assertTrue(cp.decomposed(), conv + ": " + cp.reason());
            SharingSet set = r.plan().set(cp.setId());
            assertTrue(set.pointwise());
            long in = cp.kernel()[1];
            long out = cp.kernel()[0];
            int rank = (int) Math.round(0.25 * in * out / (in + out));
            assertEquals(rank, set.atoms(), conv);
            // the written factors: coefficients [I, r] and atoms [r, O], nothing else per conv
            Tensor alpha = g.initializer(CompactExporter.scope(set.id()) + "/coefficients");
            Tensor atoms = g.initializer(CompactExporter.scope(conv) + "/atoms");
            assertEquals(List.of(in, (long) rank), List.of(alpha.shape()[0], alpha.shape()[1]));
            assertEquals(List.of((long) rank, out), List.of(atoms.shape()[0], atoms.shape()[1]));
            assertEquals(rank * (in + out), set.acdcParams());
            // ‖W − Ŵ‖² = Σ_{k>r} σ_k² of W (Eckart–Young), by an independent SVD
            float[] w = weight(original, conv);
            double[] sigma = new SingularValueDecomposition(matrix(w, (int) out, (int) in)).getSingularValues();
            double discarded = 0;
            double total = 0;
            for (int k = 0; k < sigma.length; k++) {
                total += sigma[k] * sigma[k];
                discarded += k >= rank ? sigma[k] * sigma[k] : 0;
            }
            double err = r.decomposition().relError(cp);
            assertEquals(Math.sqrt(discarded / total), err, 1e-5, conv);
            assertTrue(err > 0.1, "a lossy fit: " + err);
        }
        // the depthwise conv and the 3-channel stem stay dense, for their reasons
        for (ConvPlan c : r.plan().convs()) {
            if (c.name().equals("depthwise")) {
                assertTrue(c.reason().startsWith("depthwise"), c.reason());
            }
            if (c.name().equals("stem")) {
                assertFalse(c.decomposed());
            }
        }
    }

    /** torch.onnx names nodes "/block/conv/Conv": the values acdc adds are "acdc/block/conv/Conv/...", one slash. */
    @Test
    void namesFromAnExporterWithALeadingSlashGetOneSlash() {
        Model m = mobile();
        for (Node n : m.graph().nodes()) {
            n.setName("/" + n.name());
        }
        Compressor.Result r = Compressor.compress(m, Settings.defaults(), p -> { });
        assertTrue(r.plan().decomposed().size() >= 2, "something decomposed");
        List<String> names = new java.util.ArrayList<>(r.model().graph().initializers().keySet());
        r.model().graph().nodes().forEach(n -> names.add(n.name()));
        assertTrue(names.stream().anyMatch(x -> x.startsWith("acdc/expand/")), names.toString());
        assertTrue(names.stream().noneMatch(x -> x.contains("//")), names.toString());
    }

    @Test
    void convsReadingTheSameWidthShareTheCoefficients() {
        // net scope: expand and head both read 64 channels, so one α [64, r] serves both
        Model original = cleaned(mobile());
        Compressor.Result r = Compressor.compress(mobile(), Settings.of("net", null, null, null, null), p -> { });
        SharingSet shared = r.plan().sets().stream().filter(s -> s.members().size() == 2).findFirst().orElseThrow();
        assertEquals(List.of("expand", "head"), shared.members().stream().map(ConvPlan::name).toList());
        assertEquals(Math.round(0.25 * 64 * 512 / (64 + 512.0)), shared.atoms());
        Graph g = r.model().graph();
        String alpha = CompactExporter.scope(shared.id()) + "/coefficients";
        assertEquals(2, g.consumers(alpha).size(), "one stored α, read by both convs' chains");
        // the shared fit is the truncated SVD of the stacked [W_expand; W_head] (rows: every output channel)
        float[] we = weight(original, "expand");
        float[] wh = weight(original, "head");
        float[] stacked = new float[we.length + wh.length];
        System.arraycopy(we, 0, stacked, 0, we.length);
        System.arraycopy(wh, 0, stacked, we.length, wh.length);
        double[] sigma = new SingularValueDecomposition(matrix(stacked, 512, 64)).getSingularValues();
        double discarded = 0;
        for (int k = shared.atoms(); k < sigma.length; k++) {
            discarded += sigma[k] * sigma[k];
        }
        double err = 0;
        for (ConvPlan cp : shared.members()) {
            float[] w = weight(original, cp.name());
            float[] k = r.decomposition().kernel(cp);
            for (int i = 0; i < w.length; i++) {
                err += (w[i] - k[i]) * (double) (w[i] - k[i]);
            }
        }
        assertEquals(discarded, err, 1e-6 * discarded);
    }

    @Test
    void factorizedFormIsTwoOneByOneConvsAndComputesTheSame() {
        Compressor.Result a = Compressor.compress(mobile(), Settings.of("layer", null, null, "reconstruct", null), p -> { });
        Compressor.Result b = Compressor.compress(mobile(), Settings.of("layer", null, null, "factorized", null), p -> { });
        long convsA = a.model().graph().nodes().stream().filter(n -> n.is("Conv")).count();
        long convsB = b.model().graph().nodes().stream().filter(n -> n.is("Conv")).count();
        assertEquals(convsA + 3, convsB, "one more 1x1 conv per factored conv");
        long[] shape = {2, 3, 16, 16};
        float[] x = Ort.randomInput(shape, 5);
        double d = Ort.relDiff(Ort.run(a.model(), x, shape), Ort.run(b.model(), x, shape));
        assertTrue(d < 1e-5, "relative difference " + d);
        ConvPlan expand = b.plan().convs().stream().filter(c -> c.name().equals("expand")).findFirst().orElseThrow();
        int rank = b.plan().set(expand.setId()).atoms();
        assertEquals((64L + 256) * rank * 8 * 8, CompactExporter.factorizedMacs(expand, rank));
    }

    @Test
    void narrowOneByOneConvsStayDenseAndDenseMeansDense() {
        // 16 → 32 → 16: rank round(0.25·16·32/48) = 3 < 8: not worth factoring by default
        Model narrow = ModelGenerators.invertedResidual(3, 16, 16, 32, 64, 10, 1);
        Plan p = Planner.plan(cleaned(narrow), Settings.defaults());
        ConvPlan expand = p.convs().stream().filter(c -> c.name().equals("expand")).findFirst().orElseThrow();
        assertFalse(expand.decomposed());
        assertTrue(expand.reason().contains("rank 3 < 8"), expand.reason());
        // the head 16 → 64: rank round(0.25·16·64/80) = 3, dense too; nothing left: a clear refusal
        AcdcException e = assertThrows(AcdcException.class,
                () -> Compressor.compress(ModelGenerators.invertedResidual(3, 16, 16, 32, 64, 10, 1), Settings.defaults(),
                        q -> { }));
        assertTrue(e.getMessage().startsWith("no convolution can be decomposed"), e.getMessage());
        // --pointwise dense: the 1×1 convs of the wide model stay as they are
        Plan dense = Planner.plan(cleaned(mobile()), Settings.defaults().withPointwise(0));
        assertTrue(dense.sets().isEmpty());
        assertTrue(dense.convs().stream().filter(c -> !c.spatial()).allMatch(c -> c.reason().contains("--pointwise dense")));
        assertThrows(AcdcException.class, () -> Settings.parsePointwise("1.5"));
        assertEquals(0, Settings.parsePointwise("dense"));
    }

    @Test
    void aWideClassifierIsFactoredAsAPointwiseConv() {
        // a 256 → 100 Gemm head: rank round(0.25·256·100/356) = 18, so it becomes the 1x1 conv it is
        Model original = ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 100, 9);
        byte[] originalBytes = OnnxModels.toBytes(original);
        Model prepared = ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 100, 9);
        Compressor.prepare(prepared, Settings.defaults());
        assertTrue(prepared.graph().nodes().stream().noneMatch(n -> n.is("Gemm")));
        long[] shape = {3, 3, 16, 16};
        float[] x = Ort.randomInput(shape, 4);
        float[] a = Ort.run(originalBytes, x, shape);
        assertTrue(Ort.relDiff(a, Ort.run(prepared, x, shape)) < 1e-6, "the rewrite computes the same");
        // the small head of the 10-class model stays one Gemm, and --pointwise dense leaves every Gemm alone
        Model small = mobile();
        Compressor.prepare(small, Settings.defaults());
        assertEquals(1, small.graph().nodes().stream().filter(n -> n.is("Gemm")).count());
        Model kept = ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 100, 9);
        Compressor.prepare(kept, Settings.defaults().withPointwise(0));
        assertEquals(1, kept.graph().nodes().stream().filter(n -> n.is("Gemm")).count());

        Compressor.Result r = Compressor.compress(ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 100, 9),
                Settings.defaults(), p -> { });
        SharingSet fc = r.plan().set("fc");
        assertNotNull(fc, "sets: " + r.plan().sets().stream().map(SharingSet::id).toList());
        assertEquals(18, fc.atoms());
        assertEquals(18 * (256 + 100), fc.acdcParams());
        Map<String, Integer> full = fullRank(ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 100, 9), Settings.defaults());
        assertEquals(100, full.get("fc"));
        Compressor.Result exact = Compressor.compress(ModelGenerators.invertedResidual(3, 16, 64, 256, 256, 100, 9),
                Settings.defaults().withSetAtoms(full), p -> { });
        assertTrue(Ort.relDiff(a, Ort.run(exact.model(), x, shape)) < 1e-4);
    }

    @Test
    void aGemmWithAnUntransposedWeightAndARowBiasIsRewrittenExactly() {
        Random rnd = new Random(2);
        var b = dev.acdc.ir.GraphBuilder.create("fc");
        String in = b.input("x", dev.acdc.ir.DataType.FLOAT, -1, 64);
        String w = b.initializer("w", new long[] {64, 96}, ModelGenerators.randn(rnd, 64 * 96, 0.2));
        String c = b.initializer("c", new long[] {1, 96}, ModelGenerators.randn(rnd, 96, 0.5));
        String y = b.op("Gemm", "fc", List.of(in, w, c));
        b.output(y, dev.acdc.ir.DataType.FLOAT, -1, 96);
        Model m = Model.of(b.graph(), 13);
        byte[] before = OnnxModels.toBytes(m);
        int changed = new PassManager(List.of(new dev.acdc.passes.GemmAsPointwiseConv((i, o) -> true))).run(m).get(0).changes();
        assertEquals(1, changed);
        assertEquals(List.of("Reshape", "Conv", "Flatten"), m.graph().nodes().stream().map(Node::opType).toList());
        assertEquals(y, m.graph().nodes().get(2).output(0), "the output keeps its name");
        long[] shape = {5, 64};
        float[] x = Ort.randomInput(shape, 1);
        assertTrue(Ort.relDiff(Ort.run(before, x, shape), Ort.run(m, x, shape)) < 1e-6);
    }

    // ------------------------------------------------------------------ output fit of a pointwise set

    /** Centred-free statistics of inputs X (n × I) and targets Y (n × O): what the calibration accumulates. */
    static ConvStatistics stats(double[][] x, double[][] y) {
        int n = x.length;
        int in = x[0].length;
        int out = y[0].length;
        float[] p = new float[n * in];
        float[] yy = new float[n * out];
        float[] ptp = new float[in * in];
        float[] pty = new float[in * out];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < in; i++) {
                p[r * in + i] = (float) x[r][i];
                for (int j = 0; j < in; j++) {
                    ptp[i * in + j] += (float) (x[r][i] * x[r][j]);
                }
                for (int o = 0; o < out; o++) {
                    pty[i * out + o] += (float) (x[r][i] * y[r][o]);
                }
            }
            for (int o = 0; o < out; o++) {
                yy[r * out + o] = (float) y[r][o];
            }
        }
        ConvStatistics st = new ConvStatistics(in, out);
        st.add(n, ptp, pty, p, yy);
        return st;
    }

    /** A 1×1 conv of the given widths, alone in its pointwise set of rank m, with its SVD start. */
    static SharingSet set(ConvPlan cp, int m) {
        return new SharingSet("s", 1, (int) cp.kernel()[1], 1, 1, List.of(cp), m);
    }

    static ConvPlan conv(String name, int out, int in) {
        Node n = new Node(name, "Conv", List.of("x", "w"), List.of("y"), List.of());
        return new ConvPlan(n, out, in, 1, 1, 1, new long[] {out, 1, 1}, null, "s", 1, in, 0);
    }

    /** Correlated inputs (so the output fit differs from the weight fit) and targets of a random 1×1 conv. */
    static double[][][] problem(int n, int in, int out, long seed) {
        Random r = new Random(seed);
        double[][] mix = new double[in][in];
        for (int i = 0; i < in; i++) {
            for (int j = 0; j < in; j++) {
                mix[i][j] = (i == j ? 1 : 0) + 0.4 * r.nextGaussian();
            }
        }
        double[][] w = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                w[o][i] = r.nextGaussian();
            }
        }
        double[][] x = new double[n][in];
        double[][] y = new double[n][out];
        for (int k = 0; k < n; k++) {
            double[] z = new double[in];
            for (int i = 0; i < in; i++) {
                z[i] = r.nextGaussian();
            }
            for (int i = 0; i < in; i++) {
                double v = 0.5;
                for (int j = 0; j < in; j++) {
                    v += mix[i][j] * z[j];
                }
                x[k][i] = v;
            }
            for (int o = 0; o < out; o++) {
                double v = 0.3 * r.nextGaussian();
                for (int i = 0; i < in; i++) {
                    v += w[o][i] * x[k][i];
                }
                y[k][o] = v;
            }
        }
        return new double[][][] {x, y, w};
    }

    /** The summed squared error of kernel {@code k} (O × I) with its best bias, by a plain loop over the rows. */
    static double error(double[][] x, double[][] y, float[] k, float[] b) {
        double e = 0;
        int in = x[0].length;
        int out = y[0].length;
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < out; o++) {
                double v = b[o];
                for (int i = 0; i < in; i++) {
                    v += k[o * in + i] * x[r][i];
                }
                e += (y[r][o] - v) * (y[r][o] - v);
            }
        }
        return e;
    }

    static OutputFit.Result fitFromSvd(ConvPlan cp, int m, double[][][] pr) {
        int out = (int) cp.kernel()[0];
        int in = (int) cp.kernel()[1];
        float[] w = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                w[o * in + i] = (float) pr[2][o][i];
            }
        }
        SharingSet s = set(cp, m);
        double[] mat = new double[in * out];
        Decomposition.gather(cp, w, mat, out, 0, s);
        dev.acdc.linalg.LowRank.Fit f = dev.acdc.linalg.LowRank.fit(mat, in, out, m);
        float[] alpha = OutputFit.toFloat(f.alpha());
        float[] atoms = OutputFit.toFloat(f.d());
        Map<ConvPlan, float[]> bias0 = new LinkedHashMap<>();
        bias0.put(cp, null);
        return OutputFit.fit(s, Map.of(cp, stats(pr[0], pr[1])), alpha, Map.of(cp, atoms), bias0, 60);
    }

    @Test
    void fullRankOutputFitIsTheLeastSquaresSolution() {
        int in = 12;
        int out = 10;
        double[][][] pr = problem(400, in, out, 11);
        ConvPlan cp = conv("c", out, in);
        OutputFit.Result r = fitFromSvd(cp, Math.min(in, out), pr);
        float[] k = OutputFit.kernel(set(cp, 10), cp, 10, r.alpha(), r.atoms().get(cp));
        // oracle: least squares of y on [x, 1] by QR, column by column
        double[][] xa = new double[pr[0].length][in + 1];
        for (int n = 0; n < xa.length; n++) {
            System.arraycopy(pr[0][n], 0, xa[n], 0, in);
            xa[n][in] = 1;
        }
        RealMatrix sol = new QRDecomposition(new Array2DRowRealMatrix(xa)).getSolver()
                .solve(new Array2DRowRealMatrix(pr[1]));
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                assertEquals(sol.getEntry(i, o), k[o * in + i], 2e-3 * (1 + Math.abs(sol.getEntry(i, o))), o + "," + i);
            }
            assertEquals(sol.getEntry(in, o), r.biases().get(cp)[o], 2e-3 * (1 + Math.abs(sol.getEntry(in, o))));
        }
    }

    @Test
    void lowRankOutputFitIsOptimalOnTheOutputs() {
        int in = 16;
        int out = 12;
        int m = 3;
        double[][][] pr = problem(500, in, out, 12);
        ConvPlan cp = conv("c", out, in);
        OutputFit.Result r = fitFromSvd(cp, m, pr);
        SharingSet s = set(cp, m);
        float[] k = OutputFit.kernel(s, cp, m, r.alpha(), r.atoms().get(cp));
        double fitted = error(pr[0], pr[1], k, r.biases().get(cp));
        assertEquals(r.errors().get(cp).fitted(), Math.sqrt(fitted / stats(pr[0], pr[1]).outputEnergy()), 1e-4);
        assertTrue(r.errors().get(cp).fitted() < 0.9 * r.errors().get(cp).svd(), "better than the weight fit: " + r.errors());
        // a rank-m candidate that is natural but not optimal: the least-squares kernel truncated by its SVD
        double[][] xa = new double[pr[0].length][in + 1];
        for (int n = 0; n < xa.length; n++) {
            System.arraycopy(pr[0][n], 0, xa[n], 0, in);
            xa[n][in] = 1;
        }
        RealMatrix ls = new QRDecomposition(new Array2DRowRealMatrix(xa)).getSolver().solve(new Array2DRowRealMatrix(pr[1]))
                .getSubMatrix(0, in - 1, 0, out - 1).transpose();
        SingularValueDecomposition svd = new SingularValueDecomposition(ls);
        RealMatrix trunc = svd.getU().getSubMatrix(0, out - 1, 0, m - 1)
                .multiply(svd.getS().getSubMatrix(0, m - 1, 0, m - 1))
                .multiply(svd.getVT().getSubMatrix(0, m - 1, 0, in - 1));
        float[] kt = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                kt[o * in + i] = (float) trunc.getEntry(o, i);
            }
        }
        ConvStatistics st = stats(pr[0], pr[1]);
        double truncated = error(pr[0], pr[1], kt, st.meanCorrectingBias(kt));
        assertTrue(fitted <= truncated * (1 + 1e-6), fitted + " vs truncated least squares " + truncated);
        // and no small step of the factors lowers it (a minimum, not just a descent)
        Random rnd = new Random(3);
        for (int t = 0; t < 20; t++) {
            float[] a2 = r.alpha().clone();
            float[] d2 = r.atoms().get(cp).clone();
            for (int i = 0; i < a2.length; i++) {
                a2[i] += (float) (1e-3 * rnd.nextGaussian() * Math.abs(a2[i] + 1e-3));
            }
            for (int i = 0; i < d2.length; i++) {
                d2[i] += (float) (1e-3 * rnd.nextGaussian() * Math.abs(d2[i] + 1e-3));
            }
            float[] k2 = OutputFit.kernel(s, cp, m, a2, d2);
            assertTrue(error(pr[0], pr[1], k2, st.meanCorrectingBias(k2)) >= fitted * (1 - 1e-6));
        }
    }

    @Test
    void sharedPointwiseSetsAreFittedByDescent() {
        // two convs reading the same width but different inputs: alternating least squares, E never rises
        int in = 12;
        int m = 4;
        double[][][] p1 = problem(300, in, 8, 21);
        double[][][] p2 = problem(300, in, 10, 22);
        ConvPlan c1 = conv("a", 8, in);
        ConvPlan c2 = conv("b", 10, in);
        SharingSet s = new SharingSet("s", 1, in, 1, 1, List.of(c1, c2), m);
        float[] w = new float[18 * in];
        for (int o = 0; o < 18; o++) {
            for (int i = 0; i < in; i++) {
                w[o * in + i] = (float) (o < 8 ? p1[2][o][i] : p2[2][o - 8][i]);
            }
        }
        double[] mat = new double[in * 18];
        Decomposition.gather(c1, java.util.Arrays.copyOfRange(w, 0, 8 * in), mat, 18, 0, s);
        Decomposition.gather(c2, java.util.Arrays.copyOfRange(w, 8 * in, 18 * in), mat, 18, 8, s);
        dev.acdc.linalg.LowRank.Fit f = dev.acdc.linalg.LowRank.fit(mat, in, 18, m);
        float[] d = OutputFit.toFloat(f.d());
        float[] d1 = new float[m * 8];
        float[] d2 = new float[m * 10];
        for (int j = 0; j < m; j++) {
            System.arraycopy(d, j * 18, d1, j * 8, 8);
            System.arraycopy(d, j * 18 + 8, d2, j * 10, 10);
        }
        Map<ConvPlan, float[]> bias0 = new LinkedHashMap<>();
        bias0.put(c1, null);
        bias0.put(c2, null);
        OutputFit.Result r = OutputFit.fit(s, Map.of(c1, stats(p1[0], p1[1]), c2, stats(p2[0], p2[1])),
                OutputFit.toFloat(f.alpha()), Map.of(c1, d1, c2, d2), bias0, 60);
        List<Double> e = r.objective();
        assertTrue(e.size() > 2, "iterated: " + e);
        for (int i = 1; i < e.size() - 1; i++) {
            assertTrue(e.get(i) <= e.get(i - 1) * (1 + 1e-9), "E rose at " + i + ": " + e);
        }
        assertTrue(e.get(e.size() - 1) < 0.8 * e.get(0), "E: " + e);
        // the reported error is what a plain loop measures with the written factors
        for (ConvPlan cp : List.of(c1, c2)) {
            double[][][] pr = cp == c1 ? p1 : p2;
            float[] k = OutputFit.kernel(s, cp, m, r.alpha(), r.atoms().get(cp));
            double err = error(pr[0], pr[1], k, r.biases().get(cp));
            assertEquals(r.errors().get(cp).fitted(), Math.sqrt(err / stats(pr[0], pr[1]).outputEnergy()), 1e-4);
            assertNotNull(r.biases().get(cp));
        }
    }

    static RealMatrix matrix(float[] w, int rows, int cols) {
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[i][j] = w[i * cols + j];
            }
        }
        return new Array2DRowRealMatrix(a);
    }
}
