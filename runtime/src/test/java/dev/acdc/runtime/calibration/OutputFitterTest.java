package dev.acdc.runtime.calibration;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.OutputFit;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.Sessions;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputFitterTest {

    private static CalibrationImages images(int n, int c, int s, long seed) {
        return CalibrationImages.sample(new SyntheticDataset(n, c, s, s, 5, seed), Preprocessing.defaults(), n, seed);
    }

    @Test
    void patchesTimesTheKernelEqualOnnxRuntimesConvolution() throws Exception {
        Random r = new Random(5);
        int c = 3;
        int o = 4;
        int h = 7;
        int w = 6;
        float[] kernel = ModelGenerators.randn(r, o * c * 9, 0.5);
        float[] bias = ModelGenerators.randn(r, o, 0.5);
        GraphBuilder b = GraphBuilder.create("conv");
        String x = b.input("x", DataType.FLOAT, 2, c, h, w);
        String wk = b.initializer("w", new long[] {o, c, 3, 3}, kernel);
        String bk = b.initializer("b", new long[] {o}, bias);
        String y = b.op("Conv", "conv", List.of(x, wk, bk), Attribute.ofInts("strides", 2, 1),
                Attribute.ofInts("pads", 1, 0, 2, 1), Attribute.ofInts("dilations", 1, 2));
        b.output(y, DataType.FLOAT);
        Model m = Model.of(b.graph(), 13);
        Node conv = m.graph().nodes().get(0);
        float[] input = ModelGenerators.randn(r, 2 * c * h * w, 1);
        float[] ort;
        long[] shape;
        try (Sessions.Opened s = Sessions.open(OnnxModels.toBytes(m), Sessions.Config.cpu(), msg -> { });
             OnnxTensor t = OnnxTensor.createTensor(Sessions.env(), FloatBuffer.wrap(input), new long[] {2, c, h, w});
             OrtSession.Result res = s.session().run(Map.of("x", t))) {
            OnnxTensor out = (OnnxTensor) res.get(0);
            shape = out.getInfo().getShape();
            FloatBuffer fb = out.getFloatBuffer();
            ort = new float[fb.remaining()];
            fb.get(ort);
        }
        int oh = (int) shape[2];
        int ow = (int) shape[3];
        assertEquals(4, oh); // (7 + 3 - 3) / 2 + 1
        assertEquals(3, ow); // (6 + 1 - 5) / 1 + 1
        Im2col layout = Im2col.of(conv, c, 3, 3, h, w);
        int d = layout.patchSize();
        float[] p = new float[2 * oh * ow * d];
        java.util.Arrays.fill(p, Float.NaN); // a reused buffer: every entry, padding included, is written
        layout.patches(input, 0, 2, h, w, oh, ow, p);
        float[] rows = new float[2 * oh * ow * o];
        java.util.Arrays.fill(rows, Float.NaN);
        Im2col.rows(ort, 0, 2, o, oh * ow, rows);
        // a sample of the positions gives exactly those rows of the full matrices, image by image
        int[][] positions = {{0, 5, 11}, {2, 7}};
        float[] ps = new float[5 * d];
        float[] rs = new float[5 * o];
        java.util.Arrays.fill(ps, Float.NaN);
        layout.patches(input, 0, 2, h, w, oh, ow, positions, ps);
        Im2col.rows(ort, 0, 2, o, oh * ow, positions, rs);
        int at = 0;
        for (int img = 0; img < 2; img++) {
            for (int pos : positions[img]) {
                int full = img * oh * ow + pos;
                for (int j = 0; j < d; j++) {
                    assertEquals(p[full * d + j], ps[at * d + j], "sampled patch " + at);
                }
                for (int k = 0; k < o; k++) {
                    assertEquals(rows[full * o + k], rs[at * o + k], "sampled row " + at);
                }
                at++;
            }
        }
        for (int row = 0; row < 2 * oh * ow; row++) {
            for (int k = 0; k < o; k++) {
                double s = bias[k];
                for (int j = 0; j < d; j++) {
                    s += p[row * d + j] * kernel[k * d + j];
                }
                assertEquals(rows[row * o + k], s, 1e-4, "row " + row + " channel " + k);
            }
        }
    }

    @Test
    void outputFitLowersEveryConvsOutputErrorAndTheNetworksDistanceToTheOriginal() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 11);
        byte[] original = OnnxModels.toBytes(m);
        OutputFitter fitter = new OutputFitter(images(96, 3, 8, 3), 32, 30, true);
        Compressor.Result r = Compressor.compress(m, Settings.of("layer", "2", "8", null, null), s -> { }, fitter);
        int fitted = 0;
        for (ConvPlan cp : r.plan().decomposed()) {
            OutputFit.ConvError e = r.decomposition().outputError(cp);
            assertNotNull(e, cp.name());
            assertTrue(e.fitted() <= e.svd(), cp.name() + ": " + e);
            fitted++;
        }
        assertEquals(2, fitted);
        var sum = fitter.summary();
        assertTrue(sum.klOutputFit() < sum.klSvd(), sum.toString());
        assertEquals("output", r.model().metadata().get("acdc.fit"));
        // on other images of the same kind the written output-fitted model is closer to the original than the SVD one
        Compressor.Result svd = Compressor.compress(OnnxModels.fromBytes(original, null),
                Settings.of("layer", "2", "8", null, null), s -> { });
        CalibrationImages held = images(64, 3, 8, 99);
        double dSvd = logitDistance(original, OnnxModels.toBytes(svd.model()), held);
        double dFit = logitDistance(original, OnnxModels.toBytes(r.model()), held);
        assertTrue(dFit < dSvd, "held-out mean squared logit difference: output fit " + dFit + ", svd " + dSvd);
    }

    @Test
    void onLargeImagesTheStatisticsTakeASampleOfPositionsAndTheFitStillLowersEveryError() {
        // 64 images of 32x32: 65 536 rows a conv against a cap of 256 x 72 (8 channels x 9 taps)
        Model m = ModelGenerators.residual(3, 32, 8, 5, 13);
        OutputFitter fitter = new OutputFitter(images(64, 3, 32, 5), 32, 20, true);
        Compressor.Result r = Compressor.compress(m, Settings.of("layer", "2", "8", null, null), s -> { }, fitter);
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("seeded sample of each image's output positions")
                && n.contains("18,432 of 65,536 rows")), r.notes().toString());
        for (ConvPlan cp : r.plan().decomposed()) {
            OutputFit.ConvError e = r.decomposition().outputError(cp);
            assertTrue(e.fitted() < e.svd(), cp.name() + ": " + e);
        }
        assertTrue(fitter.summary().klOutputFit() < fitter.summary().klSvd(), fitter.summary().toString());
    }

    private static double logitDistance(byte[] a, byte[] b, CalibrationImages x) {
        long[] shape = {x.count(), 3, 8, 8};
        float[] ya;
        float[] yb;
        try (Sessions.Opened sa = Sessions.open(a, Sessions.Config.cpu(), msg -> { });
             Sessions.Opened sb = Sessions.open(b, Sessions.Config.cpu(), msg -> { })) {
            ya = Probe.run(sa.session(), x.x(), shape);
            yb = Probe.run(sb.session(), x.x(), shape);
        }
        double s = 0;
        for (int i = 0; i < ya.length; i++) {
            s += (ya[i] - yb[i]) * (ya[i] - yb[i]);
        }
        return s / ya.length;
    }

    @Test
    void fullRankOutputFitIsExactThroughTheWholeNetwork() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 12);
        byte[] original = OnnxModels.toBytes(m);
        OutputFitter fitter = new OutputFitter(images(64, 3, 8, 4), 32, 10, true);
        Compressor.Result r = Compressor.compress(m, Settings.of("layer", "9", "16", null, null), s -> { }, fitter);
        Probe.Comparison c = Probe.compare(original, OnnxModels.toBytes(r.model()), new long[] {4, 3, 8, 8}, 8);
        assertTrue(c.maxAbsDiff() <= 1e-4 * Math.max(1, c.outputScale()), c.toString());
        for (ConvPlan cp : r.plan().decomposed()) {
            assertTrue(r.decomposition().outputError(cp).fitted() < 1e-3, cp.name() + " " + r.decomposition().outputError(cp) + " " + r.plan().decomposed());
        }
    }
}
