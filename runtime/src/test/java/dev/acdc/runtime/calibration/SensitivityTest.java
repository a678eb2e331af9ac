package dev.acdc.runtime.calibration;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.Sessions;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SensitivityTest {
    private static CalibrationImages images(int n, long seed) {
        return CalibrationImages.sample(new SyntheticDataset(n, 3, 8, 8, 5, seed), Preprocessing.defaults(), n, seed);
    }

    /**
     * Each point is the network with that set compressed so and every other set dense — or, in context, at
     * the settings' 3 atoms: recomputed independently (compress, run it in ONNX Runtime, KL by plain loops);
     * full rank is exact.
     */
    @Test
    void pointsAreTheNetworkWithThatSetCompressedSo() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 4);
        CalibrationImages im = images(24, 3);
        Settings s = Settings.of("layer", "3", "16", null, null); // one block per conv: 9 atoms are exact
        byte[] orig = OnnxModels.toBytes(m);
        float[] ref = run(orig, im);
        for (boolean inContext : new boolean[] {false, true}) {
            List<Sensitivity.Curve> curves = Sensitivity.measure(m, s, im, new int[] {1, 3, 9}, inContext, x -> { });
            assertEquals(2, curves.size(), "the two block convs (the stem's 3 input channels keep it dense)");
            for (Sensitivity.Curve c : curves) {
                Sensitivity.Point last = c.points().get(c.points().size() - 1);
                assertEquals(Settings.DENSE, last.atoms());
                for (Sensitivity.Point p : c.points()) {
                    if (p.atoms() == Settings.DENSE && !inContext) {
                        assertEquals(0, p.kl());
                        continue;
                    }
                    Model w = OnnxModels.fromBytes(orig, null);
                    Map<String, Integer> only = new java.util.LinkedHashMap<>();
                    for (Sensitivity.Curve o : curves) {
                        only.put(o.set(), o == c ? p.atoms() : inContext ? 3 : Settings.DENSE);
                    }
                    Compressor.compress(w, s.withSetAtoms(only), x -> { });
                    float[] y = run(OnnxModels.toBytes(w), im);
                    double kl = 0;
                    int agree = 0;
                    for (int i = 0; i < im.count(); i++) {
                        kl += klByHand(ref, y, i * 5, 5);
                        agree += argmax(ref, i * 5) == argmax(y, i * 5) ? 1 : 0;
                    }
                    String what = c.set() + " m=" + p.atoms() + (inContext ? " in context" : "");
                    assertEquals(kl / im.count(), p.kl(), 1e-9, what);
                    assertEquals((double) agree / im.count(), p.agreement(), 1e-12, what);
                    if (p.atoms() >= 9 && !inContext) {
                        assertTrue(p.kl() < 1e-6, c.set() + " at 9 atoms of one block is exact: " + p.kl());
                    }
                    if (inContext) {
                        assertTrue(p.kl() > 1e-4, what + ": the other set's error is in every point: " + p.kl());
                    }
                }
            }
        }
    }

    /** --target-size on ResNet-20: the written file is within 2 % below the target. */
    @Test
    void sizeTargetIsMetWithinTwoPercent() throws Exception {
        java.nio.file.Path model = SharedFiles.model("resnet20-cifar10.onnx");
        java.nio.file.Path data = SharedFiles.require("data/cifar10/train-jpeg-1.bin");
        Model m = OnnxModels.load(model);
        long input = java.nio.file.Files.size(model);
        CalibrationImages im;
        try (var ds = dev.acdc.data.DataSpec.open("cifar10:" + data)) {
            im = CalibrationImages.sample(ds, Preprocessing.parse("1/255", "0.485,0.456,0.406", "0.229,0.224,0.225", null),
                    32, 1);
        }
        for (double f : new double[] {0.12, 0.25}) {
            SizeTarget.Result r = SizeTarget.plan(m, input, f, Settings.defaults(), im, new int[] {1, 2, 4, 6, 9}, x -> { });
            Model w = OnnxModels.load(model);
            Compressor.compress(w, r.settings(), x -> { });
            long bytes = OnnxModels.toBytes(w).length;
            assertEquals(r.svdBytes(), bytes, "the plan's size is what compress writes");
            boolean uniformFits = r.uniformBytes() <= f * input && r.uniformBytes() >= 0.98 * f * input;
            assertTrue(r.tried().size() >= 2, r.tried().toString());
            for (SizeTarget.Tried t : r.tried()) {
                assertTrue(t.bytes() <= f * input, t.line());
                assertTrue(r.kept().agreement() > t.agreement() || r.kept().agreement() == t.agreement()
                        && r.kept().kl() <= t.kl(), f + ": the kept allocation is the best tried: " + r.planLines());
                // each floor allocation gives every set at least its floor (capped by the set's atoms)
                if (!t.uniform() && t.floor() > 0) {
                    t.choice().values().forEach(o -> assertTrue(o.atoms() == Settings.DENSE || o.atoms() >= Math.min(
                            t.floor(), 9), t.line()));
                }
            }
            assertTrue(!uniformFits || r.tried().stream().anyMatch(t -> t.uniform() && t.bytes() == r.uniformBytes()),
                    "the uniform count is tried when it fits within 2 %: " + r.planLines());
            assertEquals(r.kept().bytes(), r.svdBytes());
            assertTrue(bytes <= f * input && bytes >= 0.98 * f * input,
                    f + ": " + bytes + " bytes for a target of " + (long) (f * input));
        }
    }

    /**
     * With a training-BN fine-tune after it the run scales every conv's filters before the fit, so the
     * judge must score each allocation so fitted: the kept allocation's agreement is recomputed here by
     * the run's own steps (standard passes, filters scaled to norm 1, compress with the plan's settings,
     * ONNX Runtime, agreement by a plain loop), and the same allocation fitted to the raw weights, which
     * the judge used before, agrees on a different number of images.
     */
    @Test
    void theJudgeScoresAllocationsAsTheRunFitsThem() throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of("").toAbsolutePath();
        dir = (java.nio.file.Files.isDirectory(dir.resolve("testdata")) ? dir : dir.getParent()).resolve("testdata");
        Model m = OnnxModels.load(dir.resolve("fmnist-resnet14.onnx"));
        long input = OnnxModels.toBytes(m).length;
        CalibrationImages im;
        try (var ds = dev.acdc.data.DataSpec.open("idx:" + dir.resolve("fmnist-train5k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-train5k-labels-idx1-ubyte.gz"))) {
            im = CalibrationImages.sample(ds, Preprocessing.defaults(), 128, 1);
        }
        SizeTarget.Written ft = new SizeTarget.Written(true, 1.0, null);
        SizeTarget.Result r = SizeTarget.plan(m, input, 0.12, Settings.defaults(), im, new int[] {1, 2, 3, 4, 6},
                ft, null, x -> { });
        float[] ref = run(OnnxModels.toBytes(m), im);
        double[] agreement = new double[2];
        for (int scaled = 0; scaled < 2; scaled++) {
            boolean[] agrees = agreesAsTheRunFits(m, r.settings(), scaled == 1, ref, im);
            int agree = 0;
            for (boolean a : agrees) {
                agree += a ? 1 : 0;
            }
            agreement[scaled] = (double) agree / im.count();
        }
        assertEquals(agreement[1], r.kept().agreement(), 1e-12, "scored as the run fits it: " + r.planLines());
        assertTrue(agreement[0] != agreement[1], "fitting the raw weights is another model: " + agreement[0]);

        // the lead over the runner-up, recounted image by image with the runner-up rebuilt from its atoms
        SizeTarget.Margin margin = r.margin();
        assertNotNull(margin, r.planLines().toString());
        SizeTarget.Tried other = r.tried().stream().filter(t -> t.label().equals(margin.runnerUp())).findFirst()
                .orElseThrow();
        Settings otherSettings = other.uniform() ? Settings.defaults().withAtoms(r.uniformAtoms())
                : Settings.defaults().withAtoms(r.uniformAtoms()).withSetAtoms(other.choice().entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().atoms())));
        boolean[] k = agreesAsTheRunFits(m, r.settings(), true, ref, im);
        boolean[] o = agreesAsTheRunFits(m, otherSettings, true, ref, im);
        int keptOnly = 0;
        int otherOnly = 0;
        for (int i = 0; i < im.count(); i++) {
            keptOnly += k[i] && !o[i] ? 1 : 0;
            otherOnly += o[i] && !k[i] ? 1 : 0;
        }
        assertEquals(keptOnly, margin.keptOnly(), margin.line());
        assertEquals(otherOnly, margin.runnerUpOnly(), margin.line());
        assertEquals(im.count(), margin.images());
        assertEquals(100 * (r.kept().agreement() - other.agreement()), margin.leadPoints(), 1e-9,
                "the lead is the difference of the two agreements");
        assertTrue(r.summary().contains(margin.line()), r.summary());
    }

    /** The paired noise by hand: 30 images only one agrees on and 10 only the other, of 200. */
    @Test
    void theJudgesMarginIsTwoPairedStandardErrors() {
        SizeTarget.Margin m = new SizeTarget.Margin("uniform 6 atoms", 30, 10, 200);
        // d = 0.1, per-image variance 40/200 - 0.01 = 0.19, SE = sqrt(0.19/200) = 0.030822
        assertEquals(10.0, m.leadPoints(), 1e-12);
        assertEquals(200 * Math.sqrt(0.19 / 200), m.noisePoints(), 1e-12);
        assertFalse(m.withinNoise(), m.line());
        SizeTarget.Margin close = new SizeTarget.Margin("uniform 6 atoms", 12, 8, 200);
        // d = 0.02, variance 0.1 - 0.0004, SE = 0.022316: a 2-point lead under a 4.5-point noise
        assertEquals(2.0, close.leadPoints(), 1e-12);
        assertEquals(200 * Math.sqrt(0.0996 / 200), close.noisePoints(), 1e-12);
        assertTrue(close.withinNoise(), close.line());
        assertTrue(close.line().contains("cannot tell the two apart"), close.line());
        SizeTarget.Margin same = new SizeTarget.Margin("uniform 6 atoms", 0, 0, 200);
        assertTrue(same.withinNoise(), "the same images: no lead, no noise, no evidence either way");
    }

    /** Per image, whether {@code settings}' compression (filters scaled to norm 1 first when asked) agrees. */
    private static boolean[] agreesAsTheRunFits(Model m, Settings settings, boolean scaled, float[] ref,
                                                CalibrationImages im) {
        Model w = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        if (scaled) {
            dev.acdc.passes.PassManager.standard().run(w);
            new dev.acdc.passes.PassManager(List.of(new dev.acdc.passes.NormalizeFilters(1.0))).run(w);
        }
        Compressor.compress(w, settings, x -> { });
        float[] y = run(OnnxModels.toBytes(w), im);
        boolean[] out = new boolean[im.count()];
        for (int i = 0; i < im.count(); i++) {
            out[i] = dev.acdc.runtime.Validator.argmax(ref, i * 10, 10) == dev.acdc.runtime.Validator.argmax(y, i * 10, 10);
        }
        return out;
    }

    static float[] run(byte[] model, CalibrationImages im) {
        try (ModelIO io = new ModelIO(model, Sessions.Config.cpu(), x -> { })) {
            return io.run(im.x(), im.count(), im.sampleShape());
        }
    }

    private static int argmax(float[] v, int off) {
        int b = 0;
        for (int i = 1; i < 5; i++) {
            if (v[off + i] > v[off + b]) {
                b = i;
            }
        }
        return b;
    }

    private static double klByHand(float[] p, float[] q, int off, int n) {
        double sp = 0;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            sp += Math.exp(p[off + i]);
            sq += Math.exp(q[off + i]);
        }
        double kl = 0;
        for (int i = 0; i < n; i++) {
            double a = Math.exp(p[off + i]) / sp;
            double b = Math.exp(q[off + i]) / sq;
            kl += a * Math.log(a / b);
        }
        return kl;
    }

    /**
     * A model whose weights sit in 1x1 and 3x3 convs alike: the size plan allocates over both kinds, says what
     * each kind got (the figures recounted here from the plan's own sets), and the file it plans is what compress
     * writes, under the target.
     */
    @Test
    void theSizePlanAllocatesAcrossSpatialAndPointwiseConvs() {
        Model m = ModelGenerators.bottleneck(3, 8, 256, 64, 5, 2);
        byte[] model = OnnxModels.toBytes(m);
        long input = model.length;
        SizeTarget.Result r = SizeTarget.plan(m, input, 0.2, Settings.defaults(), images(24, 3), new int[] {1, 2, 4, 6, 9},
                x -> { });
        assertEquals(java.util.Set.of("reduce", "expand"), r.pointwiseSets());
        assertTrue(r.choice().keySet().containsAll(List.of("reduce", "expand", "spatial")), r.choice().toString());
        long pwKept = 0;
        long pwDense = 0;
        for (String id : List.of("reduce", "expand")) {
            pwDense += r.denseParams().get(id);
            var o = r.choice().get(id);
            pwKept += o.atoms() == Settings.DENSE ? r.denseParams().get(id) : o.params();
        }
        assertEquals(2 * 256 * 64, pwDense);
        String line = r.kindLine();
        assertTrue(line.contains(String.format(java.util.Locale.ROOT, "1x1 convs: 2 set(s), %,d of %,d dense params", pwKept,
                pwDense)), line);
        assertTrue(line.contains("spatial kernels: 1 set(s)"), line);
        assertTrue(r.planLines().contains(line));
        Model w = OnnxModels.fromBytes(model, null);
        Compressor.compress(w, r.settings(), x -> { });
        long bytes = OnnxModels.toBytes(w).length;
        assertEquals(r.svdBytes(), bytes, "the plan's size is what compress writes");
        assertTrue(bytes <= 0.2 * input, bytes + " bytes for a target of " + (long) (0.2 * input));
    }
}
