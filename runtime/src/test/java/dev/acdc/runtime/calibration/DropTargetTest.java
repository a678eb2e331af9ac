package dev.acdc.runtime.calibration;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropTargetTest {
    private static final int[] COUNTS = {1, 2, 3, 4, 6, 9};

    /** The demo model in testdata/: a Fashion-MNIST ResNet-14 trained by PyTorch, 89.7 % top-1. */
    private static Path testdata(String name) {
        Path here = Path.of("").toAbsolutePath();
        return (Files.isDirectory(here.resolve("testdata")) ? here : here.getParent()).resolve("testdata").resolve(name);
    }

    private static Model model() {
        return OnnxModels.load(testdata("fmnist-resnet14.onnx"));
    }

    /** 64 images of its training set, labelled or not. */
    private static CalibrationImages images(boolean labelled) throws Exception {
        try (Dataset d = dev.acdc.data.DataSpec.open("idx:" + testdata("fmnist-train5k-images-idx3-ubyte.gz") + ","
                + testdata("fmnist-train5k-labels-idx1-ubyte.gz"))) {
            return CalibrationImages.sample(labelled ? d : unlabelled(d), Preprocessing.defaults(), 64, 1);
        }
    }

    /** The same images as {@code data}, without its labels. */
    private static Dataset unlabelled(Dataset data) {
        return new Dataset() {
            @Override
            public int size() {
                return data.size();
            }

            @Override
            public int channels() {
                return data.channels();
            }

            @Override
            public int height() {
                return data.height();
            }

            @Override
            public int width() {
                return data.width();
            }

            @Override
            public int classes() {
                return 0;
            }

            @Override
            public boolean hasLabels() {
                return false;
            }

            @Override
            public void read(int start, int n, byte[] pixels, int[] labels) {
                data.read(start, n, pixels, null);
            }

            @Override
            public String describe() {
                return "unlabelled " + data.describe();
            }
        };
    }

    /**
     * The search's answer meets the goal, the size just under it (the bracket it stopped at) does not, and
     * the predicted drop is what an independent count gives: the model compressed with the answer's
     * settings, run in ONNX Runtime, its disagreements with the original (no labels) or its top-1 against
     * the labels counted by a plain loop.
     */
    @Test
    void theAnswerMeetsTheGoalAndTheSizeBelowItDoesNot() throws Exception {
        Model m = model();
        long input = OnnxModels.toBytes(m).length;
        for (boolean labelled : new boolean[] {false, true}) {
            CalibrationImages im = images(labelled);
            assertEquals(labelled, im.labels() != null);
            double low = SizeTarget.plan(m, input, 0.3, Settings.defaults(), im, COUNTS, x -> { }).predictedDrop();
            double high = SizeTarget.plan(m, input, DropTarget.HIGHEST, Settings.defaults(), im, COUNTS, x -> { })
                    .predictedDrop();
            assertTrue(labelled || low > high, "a smaller model disagrees more: " + low + " vs " + high + " "
                    + SizeTarget.plan(m, input, 0.3, Settings.defaults(), im, COUNTS, x -> { }).planLines());
            double goal = labelled ? Math.max(low, high) : (low + high) / 2;
            java.util.List<String> progress = new java.util.ArrayList<>();
            DropTarget.Result r = DropTarget.search(m, input, goal, Settings.defaults(), im, COUNTS, null, null,
                    progress::add);
            assertFalse(progress.stream().anyMatch(l -> l.startsWith("warning:")), progress.toString());
            String steps = r.steps().stream().map(DropTarget.Step::line).toList().toString();
            assertTrue(r.plan().predictedDrop() <= goal, steps);
            assertEquals(!labelled, r.plan().predictedDropIsBound());
            double below = r.steps().stream().filter(s -> s.fraction() < r.fraction()).mapToDouble(DropTarget.Step::fraction)
                    .max().orElse(Double.NaN);
            if (r.fraction() > DropTarget.LOWEST) {
                DropTarget.Step under = r.steps().stream().filter(s -> s.fraction() == below).findFirst().orElseThrow();
                assertFalse(under.meets(goal), steps);
                assertTrue(r.fraction() / below < 1.07, "bisected to within 7 %: " + steps);
            }
            assertTrue(r.steps().size() <= DropTarget.STEPS + 2, steps);

            // the oracle
            Model w = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
            Compressor.compress(w, r.plan().settings(), x -> { });
            assertEquals(r.plan().svdBytes(), OnnxModels.toBytes(w).length);
            float[] a = SensitivityTest.run(OnnxModels.toBytes(m), im);
            float[] b = SensitivityTest.run(OnnxModels.toBytes(w), im);
            int disagree = 0;
            int rightA = 0;
            int rightB = 0;
            for (int i = 0; i < im.count(); i++) {
                int pa = dev.acdc.runtime.Validator.argmax(a, i * 10, 10);
                int pb = dev.acdc.runtime.Validator.argmax(b, i * 10, 10);
                disagree += pa != pb ? 1 : 0;
                if (labelled) {
                    rightA += pa == im.labels()[i] ? 1 : 0;
                    rightB += pb == im.labels()[i] ? 1 : 0;
                }
            }
            double expected = labelled ? 100.0 * (rightA - rightB) / im.count() : 100.0 * disagree / im.count();
            assertEquals(expected, r.plan().predictedDrop(), 1e-9, steps);
            assertTrue(r.summary().contains("--target-drop"), r.summary());
        }
    }

    /**
     * Labels in another class order (each shifted by one class) make the original itself mostly wrong on
     * the calibration images: the search says so, with the original's top-1 counted here by a plain loop.
     */
    @Test
    void anOriginalThatIsMostlyWrongOnTheCalibrationImagesIsAWarning() throws Exception {
        Model m = model();
        long input = OnnxModels.toBytes(m).length;
        CalibrationImages right = images(true);
        int[] shifted = new int[right.count()];
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] = (right.labels()[i] + 1) % 10;
        }
        CalibrationImages im = new CalibrationImages(right.x(), right.count(), right.sampleShape(), right.source(),
                right.subset(), right.seed(), right.preprocessing(), shifted);
        float[] a = SensitivityTest.run(OnnxModels.toBytes(m), im);
        int correct = 0;
        for (int i = 0; i < im.count(); i++) {
            correct += dev.acdc.runtime.Validator.argmax(a, i * 10, 10) == shifted[i] ? 1 : 0;
        }
        assertTrue(correct < im.count() / 2, "shifted labels: " + correct);
        java.util.List<String> progress = new java.util.ArrayList<>();
        DropTarget.search(m, input, 100, Settings.defaults(), im, COUNTS, null, null, progress::add);
        String expected = String.format(java.util.Locale.ROOT, "warning: the original model itself is right on only "
                + "%.1f %% of the %d labelled calibration images", 100.0 * correct / im.count(), im.count());
        assertTrue(progress.stream().anyMatch(l -> l.startsWith(expected)), expected + " in " + progress);
    }

    /** A goal no size up to the highest meets is refused with exit 1 (check failed), naming the drop reached. */
    @Test
    void anUnreachableGoalFails() throws Exception {
        Model m = model();
        long input = OnnxModels.toBytes(m).length;
        CalibrationImages im = images(false); // the disagreement bound: 0 only where the model agrees everywhere
        double highest = 0.15;
        double high = SizeTarget.plan(m, input, highest, Settings.defaults(), im, COUNTS, x -> { }).predictedDrop();
        assertTrue(high > 0, "at " + highest + " the model is not exact: " + high);
        double goal = high / 2;
        AcdcException e = assertThrows(AcdcException.class, () -> DropTarget.search(m, input, goal, Settings.defaults(),
                im, COUNTS, null, null, 0.02, highest, x -> { }));
        assertEquals(AcdcException.CHECK_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("even at 15 % of the input's bytes") && e.getMessage().contains(
                String.format(java.util.Locale.ROOT, "%.2f points", high)), e.getMessage());
        AcdcException bad = assertThrows(AcdcException.class, () -> DropTarget.search(m, input, -1, Settings.defaults(),
                im, COUNTS, null, null, x -> { }));
        assertEquals(AcdcException.BAD_INPUT, bad.exitCode());
    }
}
