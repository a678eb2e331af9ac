package dev.acdc.runtime.recovery;

import dev.acdc.data.Preprocessing;
import dev.acdc.data.SyntheticDataset;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.calibration.ActivationModels;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockRecoveryTest {
    /** A residual CNN (stem, one block of two 16x16 3x3 convs), compressed to 2 atoms per group by SVD. */
    private static Model[] compressed() {
        Model original = ModelGenerators.residual(3, 8, 16, 10, 3);
        byte[] bytes = OnnxModels.toBytes(original);
        Model student = OnnxModels.fromBytes(bytes, null);
        Settings s = Settings.of("layer", "2", "16", "reconstruct", null);
        student = Compressor.compress(student, s, line -> { }, null).model();
        Model teacher = OnnxModels.fromBytes(bytes, null);
        Compressor.prepare(teacher, s);
        return new Model[] {student, teacher};
    }

    private static CalibrationImages images(int n, long seed) {
        return CalibrationImages.sample(new SyntheticDataset(n, 3, 8, 8, 10, seed), Preprocessing.defaults(), n, seed);
    }

    /** Σ(student − teacher)² / Σ teacher² of {@code value} on {@code images}, both models run by ONNX Runtime. */
    private static double ortError(Model student, Model teacher, String value, CalibrationImages images) {
        float[] s = run(student, value, images);
        float[] t = run(teacher, value, images);
        double num = 0;
        double den = 0;
        for (int i = 0; i < t.length; i++) {
            num += (s[i] - t[i]) * (double) (s[i] - t[i]);
            den += t[i] * (double) t[i];
        }
        return num / den;
    }

    private static float[] run(Model m, String value, CalibrationImages images) {
        try (ModelIO io = new ModelIO(ActivationModels.exposing(m, List.of(value)), Sessions.Config.cpu(), x -> { })) {
            return io.run(images.x(), images.count(), images.sampleShape());
        }
    }

    @Test
    void recoveryLowersEachSegmentsErrorAsOnnxRuntimeMeasuresItOnUnseenImages() {
        for (BlockRecovery.Mode mode : List.of(BlockRecovery.Mode.ORIGINAL, BlockRecovery.Mode.SEQUENTIAL)) {
            Model[] m = compressed();
            Model student = m[0];
            Model teacher = m[1];
            CalibrationImages train = images(160, 1);
            CalibrationImages unseen = images(64, 2);
            List<String> outputs = new ArrayList<>();
            List<Double> before = new ArrayList<>();
            BlockRecovery.Options o = BlockRecovery.Options.defaults().withMode(mode).withEpochs(15).withLr(3e-3);
            List<String> lines = new ArrayList<>();
            // the error before, per segment, from a dry look at the segments the stage will train
            BlockRecovery.Result r0 = BlockRecovery.run(compressed()[0], teacher, train, o.withEpochs(0), lines::add);
            for (BlockRecovery.SegmentResult s : r0.segments()) {
                outputs.add(s.output());
                before.add(ortError(student, teacher, s.output(), unseen));
            }
            BlockRecovery.Result r = BlockRecovery.run(student, teacher, train, o, lines::add);
            assertEquals(outputs.size(), r.segments().size());
            assertTrue(r.agreementAfter() >= 0 && r.agreementAfter() <= 1 && r.agreementBefore() >= 0, r.agreementLine());
            assertTrue(!outputs.isEmpty(), "the block of decomposed convs is a segment");
            for (int k = 0; k < outputs.size(); k++) {
                BlockRecovery.SegmentResult s = r.segments().get(k);
                assertTrue(s.fit().kept(), mode + ": " + s.line());
                assertTrue(s.fit().after() < s.fit().before(), mode + ": " + s.line());
                double after = ortError(student, teacher, outputs.get(k), unseen);
                assertTrue(after < 0.8 * before.get(k), mode + " segment " + k + ": ONNX Runtime's error on unseen "
                        + "images " + before.get(k) + " -> " + after);
            }
        }
    }

    @Test
    void theHeldOutErrorItReportsIsOnnxRuntimesAndNeverRises() {
        Model[] m = compressed();
        CalibrationImages train = images(64, 4);
        // a rate far too large: training makes the segment worse, and the stage keeps the fitted weights
        BlockRecovery.Options o = BlockRecovery.Options.defaults().withEpochs(3).withLr(5.0);
        byte[] before = OnnxModels.toBytes(m[0]);
        BlockRecovery.Result r = BlockRecovery.run(m[0], m[1], train, o, line -> { });
        for (BlockRecovery.SegmentResult s : r.segments()) {
            assertTrue(s.fit().after() <= s.fit().before(), s.line());
            if (!s.fit().kept()) {
                assertEquals(s.fit().before(), s.fit().after());
            }
        }
        assertTrue(r.segments().stream().noneMatch(s -> s.fit().kept()), "a rate of 5 cannot lower the error");
        assertEquals(java.util.Arrays.hashCode(before), java.util.Arrays.hashCode(OnnxModels.toBytes(m[0])),
                "weights left as fitted when not lowered");
    }

    /**
     * The network-level guard: trained weights whose network agrees less with the original on the held-out
     * images are all undone, back to the exact fitted bytes (and a line says so); an equal or better agreement
     * keeps them.
     */
    @Test
    void aNetworkThatAgreesLessAfterRecoveryIsPutBackAsFitted() {
        Model student = compressed()[0];
        byte[] fittedBytes = OnnxModels.toBytes(student);
        java.util.Map<String, dev.acdc.ir.Tensor> fitted = new java.util.LinkedHashMap<>(student.graph().initializers());
        // "training": every float initializer scaled, and one added
        java.util.Map<String, dev.acdc.ir.Tensor> trained = new java.util.LinkedHashMap<>();
        for (dev.acdc.ir.Tensor t : fitted.values()) {
            if (t.isFloat()) {
                float[] v = t.floats().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 1.5f;
                }
                trained.put(t.name(), dev.acdc.ir.Tensor.ofFloats(t.name(), t.shape(), v));
            }
        }
        trained.values().forEach(student.graph()::putInitializer);
        student.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats("extra", new long[] {1}, new float[] {1}));
        byte[] trainedBytes = OnnxModels.toBytes(student);
        assertFalse(java.util.Arrays.equals(fittedBytes, trainedBytes));

        assertEquals(null, BlockRecovery.undoIfWorse(student, fitted, 0.25, 0.25), "an equal loss keeps the training");
        assertEquals(null, BlockRecovery.undoIfWorse(student, fitted, 0.25, 0.125));
        assertTrue(java.util.Arrays.equals(trainedBytes, OnnxModels.toBytes(student)));

        // the loss it judges by: KL(softmax a || softmax b) on the held-out rows (every 2nd here), by hand:
        // a = (0, 0) -> p = (1/2, 1/2); b = (ln 3, 0) -> q = (3/4, 1/4); KL = 1/2 ln(2/3) + 1/2 ln 2
        float ln3 = (float) Math.log(3);
        double[] ag = BlockRecovery.agreement(new float[] {5, 0, 0, 0}, new float[] {5, 1, ln3, 0}, 2, 2);
        assertEquals(1.0, ag[0]); // argmax of (0, 0) and of (ln 3, 0) is class 0 both
        assertEquals(0.5 * Math.log(2.0 / 3) + 0.5 * Math.log(2), ag[2], 1e-6);
        String line = BlockRecovery.undoIfWorse(student, fitted, 0.125, 0.25);
        assertEquals("block recovery undone: the network's distillation loss on the held-out images rose (KL 0.1250 -> "
                + "0.2500), so the model stays as fitted", line);
        assertTrue(java.util.Arrays.equals(fittedBytes, OnnxModels.toBytes(student)), "every weight as fitted again");
    }

    @Test
    void overItsBudgetTheStageSaysSoAndChangesNothing() {
        Model[] m = compressed();
        byte[] before = OnnxModels.toBytes(m[0]);
        List<String> lines = new ArrayList<>();
        // 1 000 passes over 64 images of an 8x8 CNN: far more than a budget of a thousandth of a minute
        BlockRecovery.Result r = BlockRecovery.run(m[0], m[1], images(64, 4),
                BlockRecovery.Options.defaults().withEpochs(1000).withBudget(0.001), lines::add);
        assertTrue(r.segments().isEmpty());
        assertTrue(r.skipped().startsWith("block recovery skipped: about"), r.skipped());
        assertEquals(List.of(r.skipped()), lines);
        assertTrue(java.util.Arrays.equals(before, OnnxModels.toBytes(m[0])));
        assertEquals(BlockRecovery.Options.defaults().withBudget(BlockRecovery.AUTO_BUDGET_MINUTES),
                BlockRecovery.Options.parse("auto"));
        assertEquals(null, BlockRecovery.Options.parse("off"));
        BlockRecovery.Options o = BlockRecovery.Options.parse("mode=original,epochs=3,lr=0.5,tail=off");
        assertEquals(BlockRecovery.Mode.ORIGINAL, o.mode());
        assertEquals(o, BlockRecovery.Options.parse(o.spec()));
        for (String bad : List.of("epochs=-1", "lr=NaN", "lr=0", "holdout=1", "budget=-2", "batch=0")) {
            dev.acdc.AcdcException e = org.junit.jupiter.api.Assertions.assertThrows(dev.acdc.AcdcException.class,
                    () -> BlockRecovery.Options.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--recovery: "), e.getMessage());
        }
    }

    @Test
    void segmentsThatShareCoefficientsAreJoinedSoEachFactorTrainsWithAllItsConvs() {
        java.nio.file.Path path = dev.acdc.testing.SharedFiles.model("resnet20-cifar10.onnx");
        for (String share : List.of("layer", "block", "stage", "net")) {
            Model student = OnnxModels.load(path);
            student = Compressor.compress(student, Settings.of(share, null, null, null, null), x -> { }, null).model();
            java.util.Set<String> factors = new java.util.HashSet<>();
            dev.acdc.decompose.WeightRoles.of(student).forEach((k, v) -> {
                if (v == dev.acdc.decompose.WeightRoles.Role.ATOMS || v == dev.acdc.decompose.WeightRoles.Role.COEFFICIENTS) {
                    factors.add(k);
                }
            });
            var blocks = dev.acdc.analysis.Segments.of(student.graph(), factors::contains);
            var joined = BlockRecovery.joinSharing(student, blocks, factors);
            assertEquals(9, blocks.size(), share); // the stem with the first block, then one per block
            // layer and block share nothing across blocks; stage shares within each of the 3 stages; net all
            int expected = switch (share) {
                case "stage" -> 3;
                case "net" -> 1;
                default -> 9;
            };
            assertEquals(expected, joined.size(), share);
            assertEquals(blocks.get(blocks.size() - 1).output(), joined.get(joined.size() - 1).output());
        }
    }

    @Test
    void graftingLowersTheLogitErrorOnUnseenImages() {
        Model[] m = compressed();
        String logits = m[1].graph().outputs().get(0).name();
        CalibrationImages unseen = images(64, 2);
        double before = ortError(m[0], m[1], logits, unseen);
        BlockRecovery.Result r = BlockRecovery.run(m[0], m[1], images(160, 1),
                BlockRecovery.Options.defaults().withMode(BlockRecovery.Mode.GRAFT).withEpochs(15).withLr(3e-3),
                line -> { });
        assertTrue(r.segments().stream().allMatch(s -> s.fit().after() <= s.fit().before()));
        double after = ortError(m[0], m[1], logits, unseen);
        assertTrue(after < 0.8 * before, "logit error on unseen images " + before + " -> " + after);
    }

    /**
     * A run stopped (as Ctrl-C stops it) in its second segment keeps the first in its checkpoint, and the
     * resumed run ends with exactly the weights and rows of the run that was never stopped; a checkpoint of
     * another run (other calibration images) is refused and changes nothing.
     */
    @Test
    void aStoppedRecoveryResumesToTheWeightsOfTheUninterruptedRun(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        CalibrationImages train = images(96, 5);
        BlockRecovery.Options o = BlockRecovery.Options.defaults().withEpochs(4).withLr(3e-3);
        Model[] a = compressed();
        BlockRecovery.Result straight = BlockRecovery.run(a[0], a[1], train, o, line -> { });
        assertEquals(2, straight.segments().size(), "the block and the head");
        assertTrue(straight.skipped() == null && straight.segments().get(0).fit().kept(), "segment 1 trained and kept");
        int firstSteps = straight.segments().get(0).fit().steps();

        Model[] b = compressed();
        int[] steps = {0};
        dev.acdc.AcdcException stop = org.junit.jupiter.api.Assertions.assertThrows(dev.acdc.AcdcException.class,
                () -> BlockRecovery.run(b[0], b[1], train, o.withCheckpoint(new RecoveryCheckpoint(tmp, false, false)),
                        line -> { }, () -> {
                            if (++steps[0] > firstSteps + 1) {
                                throw new dev.acdc.AcdcException(dev.acdc.train.StopSignal.EXIT_INTERRUPTED, "stop", null);
                            }
                        }));
        assertEquals(dev.acdc.train.StopSignal.EXIT_INTERRUPTED, stop.exitCode());
        assertTrue(stop.getMessage().contains("after 1 of 2 segment(s)") && stop.getMessage().contains("--resume"),
                stop.getMessage());
        assertTrue(RecoveryCheckpoint.isCheckpoint(tmp));

        Model[] other = compressed();
        byte[] otherBefore = OnnxModels.toBytes(other[0]);
        dev.acdc.AcdcException refused = org.junit.jupiter.api.Assertions.assertThrows(dev.acdc.AcdcException.class,
                () -> BlockRecovery.run(other[0], other[1], images(96, 6),
                        o.withCheckpoint(new RecoveryCheckpoint(tmp, false, true)), line -> { }));
        assertTrue(refused.getMessage().contains("of another run"), refused.getMessage());
        assertTrue(java.util.Arrays.equals(otherBefore, OnnxModels.toBytes(other[0])), "nothing changed");

        Model[] c = compressed();
        List<String> lines = new ArrayList<>();
        BlockRecovery.Result resumed = BlockRecovery.run(c[0], c[1], train,
                o.withCheckpoint(new RecoveryCheckpoint(tmp, true, true)), lines::add);
        assertTrue(lines.stream().anyMatch(l -> l.contains("1 of 2 segment(s) done before the stop")), lines.toString());
        assertTrue(java.util.Arrays.equals(OnnxModels.toBytes(a[0]), OnnxModels.toBytes(c[0])),
                "the resumed run's weights are the uninterrupted run's");
        assertEquals(straight.segments().size(), resumed.segments().size());
        for (int k = 0; k < straight.segments().size(); k++) {
            BlockRecovery.SegmentResult x = straight.segments().get(k);
            BlockRecovery.SegmentResult y = resumed.segments().get(k);
            assertEquals(x.output(), y.output());
            assertEquals(x.fit().before(), y.fit().before());
            assertEquals(x.fit().after(), y.fit().after());
        }
        assertEquals(straight.heldOutAfter(), resumed.heldOutAfter());
    }
}
