package dev.acdc.runtime.calibration;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The activations the output fit reads from a frontier kept at cut points equal those of full passes from the
 * images (a frontier whose memory cap admits no cut), while the compressed network's weights change after
 * each request as the fit changes them, for requests in order, one back to an earlier conv, and a partial
 * last batch.
 */
class ActivationFrontierTest {
    /** conv a → Relu → conv b → Relu → [conv c → Relu → conv d] + skip → Relu → conv e (stride 2). */
    static Model chain(long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("chain");
        String h = b.input("input", DataType.FLOAT, -1, 3, 8, 8);
        long[] one = {1, 1};
        long[] pad = {1, 1, 1, 1};
        int[] ins = {3, 8, 8, 8, 8};
        String[] names = {"a", "b", "c", "d", "e"};
        String skip = null;
        for (int i = 0; i < 5; i++) {
            String w = b.initializer(names[i] + ".weight", new long[] {8, ins[i], 3, 3},
                    ModelGenerators.randn(r, 8 * ins[i] * 9, Math.sqrt(2.0 / (ins[i] * 9))));
            String bias = b.initializer(names[i] + ".bias", new long[] {8}, ModelGenerators.randn(r, 8, 0.1));
            if (i == 2) {
                skip = h;
            }
            h = b.conv(names[i], h, w, bias, 1, i == 4 ? new long[] {2, 2} : one, pad);
            if (i == 3) {
                h = b.op("Add", "add", h, skip);
            }
            if (i < 4) {
                h = b.op("Relu", names[i] + "_relu", h);
            }
        }
        b.output(h, DataType.FLOAT, -1, 8, 4, 4);
        return Model.of(b.graph(), 13);
    }

    @Test
    void activationsFromCutsEqualFullPassesWhileTheWorkNetworkChanges() {
        Model orig = chain(1);
        Model work = OnnxModels.fromBytes(OnnxModels.toBytes(orig), null);
        CalibrationImages images = CalibrationImages.sample(new SyntheticDataset(10, 3, 8, 8, 5, 7),
                Preprocessing.defaults(), 10, 7);
        ActivationFrontier frontier = new ActivationFrontier(orig, work, images, "input", 4, Long.MAX_VALUE);
        ActivationFrontier full = new ActivationFrontier(orig, work, images, "input", 4, 0);
        String[] order = {"a", "b", "c", "d", "e", "c", "e"};
        Set<String> cuts = new java.util.HashSet<>();
        for (String conv : order) {
            var node = orig.graph().nodes().stream().filter(n -> n.name().equals(conv)).findFirst().orElseThrow();
            List<String> outs = new ArrayList<>(List.of(node.output(0)));
            List<String> insNeeded = new ArrayList<>(List.of(node.input(0)));
            if (conv.equals("d")) {
                String skip = orig.graph().nodes().stream().filter(n -> n.name().equals("add")).findFirst()
                        .orElseThrow().input(1);
                outs.add(skip);
                insNeeded.add(skip);
            }
            List<float[]> got = collect(frontier, outs, insNeeded);
            List<float[]> want = collect(full, outs, insNeeded);
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) {
                assertClose(want.get(i), got.get(i), conv + " value " + i);
            }
            cuts.add(frontier.cut());
            assertEquals("input", full.cut(), "a frontier with no memory keeps to the images");
            // the fit changes this conv in the compressed network: every later request must see it
            Tensor w = work.graph().initializers().get(conv + ".weight");
            float[] v = w.floats().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 0.8f + 0.01f * (i % 7);
            }
            work.graph().putInitializer(Tensor.ofFloats(w.name(), w.shape(), v));
        }
        assertTrue(cuts.size() >= 3, "the frontier moved over the chain's cuts: " + cuts);
        assertNotEquals(0, frontier.moves());
    }

    private static List<float[]> collect(ActivationFrontier f, List<String> outs, List<String> ins) {
        List<float[]> all = new ArrayList<>();
        for (int i = 0; i < outs.size() + ins.size(); i++) {
            all.add(new float[0]);
        }
        f.forEach(outs, ins, batch -> {
            int k = 0;
            for (String v : outs) {
                all.set(k, append(all.get(k), batch.original().get(v), batch.n()));
                k++;
            }
            for (String v : ins) {
                all.set(k, append(all.get(k), batch.work().get(v), batch.n()));
                k++;
            }
        });
        return all;
    }

    private static float[] append(float[] acc, ActivationFrontier.Activation a, int n) {
        int per = a.data().length / (int) a.shape()[0];
        float[] out = java.util.Arrays.copyOf(acc, acc.length + n * per);
        System.arraycopy(a.data(), 0, out, acc.length, n * per);
        return out;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            diff = Math.max(diff, Math.abs(want[i] - got[i]));
        }
        assertTrue(scale > 0 && diff <= 1e-5 * scale, what + ": max diff " + diff + " of " + scale);
    }
}
