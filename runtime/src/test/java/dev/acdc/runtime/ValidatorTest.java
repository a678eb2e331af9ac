package dev.acdc.runtime;

import dev.acdc.AcdcException;
import dev.acdc.data.Cifar10Dataset;
import dev.acdc.data.DataSpec;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValidatorTest {
    @TempDir
    Path tmp;

    static final Validator.Options CPU = new Validator.Options(3, Sessions.Config.cpu(), false);

    // original: logits = the 4 pixels and their mean; candidate: pixels 0 and 1 swapped, class 4 silent
    static final float[] W_A = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, .25f, .25f, .25f, .25f};
    static final float[] W_B = {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};

    static final byte[][] PIXELS = {
        {9, 1, 2, 3}, {1, 9, 2, 3}, {1, 2, 9, 3}, {1, 2, 3, 9},
        {5, 5, 5, 5}, {8, 7, 1, 1}, {2, 3, 4, 50}, {7, 8, 6, 0},
    };
    static final int[] LABELS = {0, 1, 2, 3, 4, 0, 2, 1};

    static float[] logits(float[] w, byte[] p) {
        float[] y = new float[5];
        for (int k = 0; k < 5; k++) {
            for (int i = 0; i < 4; i++) {
                y[k] += w[k * 4 + i] * p[i];
            }
        }
        return y;
    }

    static int argmax(float[] y) {
        int b = 0;
        for (int i = 1; i < y.length; i++) {
            if (y[i] > y[b]) {
                b = i;
            }
        }
        return b;
    }

    @Test
    void everyMetricOnAHandMadeSet() throws Exception {
        Path img = tmp.resolve("img.gz");
        Path lab = tmp.resolve("lab.gz");
        TinyData.writeIdx(img, lab, PIXELS, 2, 2, LABELS, true);
        // expected values, computed here by plain loops
        int topA = 0;
        int topB = 0;
        int agree = 0;
        double max = 0;
        double sum = 0;
        for (int i = 0; i < PIXELS.length; i++) {
            float[] a = logits(W_A, PIXELS[i]);
            float[] b = logits(W_B, PIXELS[i]);
            topA += argmax(a) == LABELS[i] ? 1 : 0;
            topB += argmax(b) == LABELS[i] ? 1 : 0;
            agree += argmax(a) == argmax(b) ? 1 : 0;
            for (int k = 0; k < 5; k++) {
                max = Math.max(max, Math.abs(a[k] - b[k]));
                sum += Math.abs(a[k] - b[k]);
            }
        }
        Preprocessing raw = Preprocessing.parse("1", null, null, null);
        try (Dataset ds = DataSpec.open("idx:" + img + "," + lab)) {
            ValidationResult r = Validator.validate(TinyData.linearModel(W_A), TinyData.linearModel(W_B), ds, raw, CPU,
                    s -> { }, (d, t) -> { });
            assertEquals(8, r.samples());
            assertEquals(topA / 8.0, r.originalTop1());
            assertEquals(topB / 8.0, r.candidateTop1());
            assertEquals(100 * (topA - topB) / 8.0, r.drop(), 1e-9);
            assertEquals(agree / 8.0, r.agreement());
            assertEquals(max, r.maxAbsDiff(), 1e-5);
            assertEquals(sum / 40, r.meanAbsDiff(), 1e-5);
            assertEquals(1.0, r.originalTop5(), "5 classes: the label is always in the top 5");
            // by hand: the original misses image 4 (a five-way tie goes to class 0) and image 6 (label 2,
            // brightest pixel 3); the candidate, with classes 0 and 1 swapped, is right on images 2 and 3 only
            assertEquals(6, topA);
            assertEquals(2, topB);
        }
    }

    @Test
    void limitAndNoLabels() throws Exception {
        Path img = tmp.resolve("img");
        Path lab = tmp.resolve("lab");
        TinyData.writeIdx(img, lab, PIXELS, 2, 2, LABELS, false);
        try (Dataset ds = DataSpec.open("idx:" + img + "," + lab)) {
            Dataset first4 = new dev.acdc.data.SubsetDataset(ds, new int[] {0, 1, 2, 3}, "4 images");
            ValidationResult r = Validator.validate(TinyData.linearModel(W_A), TinyData.linearModel(W_B), first4,
                    Preprocessing.parse("1", null, null, null), new Validator.Options(3, Sessions.Config.cpu(), true),
                    s -> { }, (d, t) -> { });
            assertEquals(4, r.samples());
            assertTrue(Double.isNaN(r.drop()));
            assertEquals(0.5, r.agreement(), "images 0 and 1 flip, 2 and 3 agree");
        }
    }

    /** A NaN logit predicts nothing: two all-NaN models neither agree nor score, they do not agree 100 %. */
    @Test
    void nanOutputsAreFailuresNotAgreement() throws Exception {
        Path img = tmp.resolve("img");
        Path lab = tmp.resolve("lab");
        TinyData.writeIdx(img, lab, PIXELS, 2, 2, LABELS, false);
        float[] nan = W_A.clone();
        nan[0] = Float.NaN;
        try (Dataset ds = DataSpec.open("idx:" + img + "," + lab)) {
            ValidationResult r = Validator.validate(TinyData.linearModel(nan), TinyData.linearModel(nan), ds,
                    Preprocessing.parse("1", null, null, null), CPU, s -> { }, (d, t) -> { });
            assertEquals(0.0, r.agreement());
            assertEquals(0.0, r.originalTop1());
            assertEquals(0.0, r.candidateTop1());
        }
        assertEquals(-1, Validator.argmax(new float[] {1, Float.NaN, 0}, 0, 3));
        assertEquals(0, Validator.argmax(new float[] {3, 1, 2}, 0, 3));
    }

    @Test
    void labelOutOfRangeIsNamed() throws Exception {
        Path img = tmp.resolve("img");
        Path lab = tmp.resolve("lab");
        int[] bad = LABELS.clone();
        bad[6] = 7;
        TinyData.writeIdx(img, lab, PIXELS, 2, 2, bad, false);
        try (Dataset ds = DataSpec.open("idx:" + img + "," + lab)) {
            AcdcException e = assertThrows(AcdcException.class, () -> Validator.validate(TinyData.linearModel(W_A),
                    TinyData.linearModel(W_A), ds, Preprocessing.parse("1", null, null, null), CPU, s -> { },
                    (d, t) -> { }));
            assertEquals("label 7 of image 6 is out of range for a model with 5 outputs", e.getMessage());
        }
    }

    @Test
    void idxMagicMismatch() throws Exception {
        Path img = tmp.resolve("img");
        Path lab = tmp.resolve("lab");
        TinyData.writeIdx(img, lab, PIXELS, 2, 2, LABELS, false);
        AcdcException e = assertThrows(AcdcException.class, () -> DataSpec.open("idx:" + lab + "," + img));
        assertTrue(e.getMessage().contains("magic 0x00000801, expected 0x00000803"), e.getMessage());
    }

    @Test
    void cifarFileOfWrongSize() throws Exception {
        Path f = Files.write(tmp.resolve("x.bin"), new byte[Cifar10Dataset.RECORD * 2 + 5]);
        AcdcException e = assertThrows(AcdcException.class, () -> DataSpec.open("cifar10:" + f));
        assertTrue(e.getMessage().contains("not a whole number of 3073-byte records"), e.getMessage());
    }

    @Test
    void imagesOfMixedSizes() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("imgs/cat"));
        Files.createDirectories(tmp.resolve("imgs/dog"));
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", dir.resolve("a.png").toFile());
        ImageIO.write(new BufferedImage(5, 4, BufferedImage.TYPE_INT_RGB), "png",
                tmp.resolve("imgs/dog/b.png").toFile());
        try (Dataset ds = DataSpec.open("folder:" + tmp.resolve("imgs"))) {
            assertEquals(2, ds.classes());
            AcdcException e = assertThrows(AcdcException.class, () -> ds.read(0, 2, new byte[2 * 48], new int[2]));
            assertTrue(e.getMessage().startsWith("images of mixed sizes: b.png is 5x4"), e.getMessage());
        }
    }

    @Test
    void folderImagesAreReadAsChwWithSortedClasses() throws Exception {
        Files.createDirectories(tmp.resolve("f/b_second"));
        Files.createDirectories(tmp.resolve("f/a_first"));
        BufferedImage red = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        red.setRGB(0, 0, 0xff0000);
        red.setRGB(1, 0, 0x00ff80);
        ImageIO.write(red, "png", tmp.resolve("f/b_second/x.png").toFile());
        ImageIO.write(red, "png", tmp.resolve("f/a_first/y.png").toFile());
        try (Dataset ds = DataSpec.open("folder:" + tmp.resolve("f"))) {
            byte[] px = new byte[12];
            int[] lab = new int[2];
            ds.read(0, 2, px, lab);
            assertEquals(List.of(0, 1), List.of(lab[0], lab[1]), "classes in sorted folder order");
            // R plane, G plane, B plane
            assertEquals(List.of(255, 0, 0, 255, 0, 128), List.of(px[0] & 0xff, px[1] & 0xff, px[2] & 0xff,
                    px[3] & 0xff, px[4] & 0xff, px[5] & 0xff));
        }
    }

    @Test
    void modelInputThatDoesNotFitTheData() {
        Path mnist = SharedFiles.model("mnist-8.onnx");
        Path cifar = SharedFiles.require("data/cifar10/eembc200.bin");
        try (Dataset ds = DataSpec.open("cifar10:" + cifar)) {
            AcdcException e = assertThrows(AcdcException.class, () -> Validator.validate(Files.readAllBytes(mnist),
                    Files.readAllBytes(mnist), ds, Preprocessing.defaults(), CPU, s -> { }, (d, t) -> { }));
            assertEquals("the model expects input [1, 1, 28, 28] but the data are 3x32x32 images (layout nchw)",
                    e.getMessage());
        }
    }

    /** The originals' accuracy as listed in ../shared/README.md, within 0.1 point. */
    @ParameterizedTest
    @CsvSource({
        "resnet20-cifar10.onnx, eembc200.bin, 90.0, imagenet",
        "resnet20-cifar10.onnx, test-jpeg.bin, 81.0, imagenet",
        "resnet56-cifar10.onnx, eembc200.bin, 91.0, imagenet",
        "resnet56-cifar10.onnx, test-jpeg.bin, 83.2, imagenet",
        "resnet20-cifar10-bn-batch1.onnx, eembc200.bin, 90.0, cifar",
        "resnet20-cifar10-bn-batch1.onnx, test-jpeg.bin, 81.4, cifar"})
    void publishedAccuracyOfTheCifarModels(String model, String data, double top1, String norm) throws Exception {
        byte[] m = Files.readAllBytes(SharedFiles.model(model));
        Path d = SharedFiles.require("data/cifar10/" + data);
        Preprocessing pre = norm.equals("imagenet")
                ? Preprocessing.parse("1/255", "0.485,0.456,0.406", "0.229,0.224,0.225", null)
                : Preprocessing.parse("1/255", "0.4914,0.4822,0.4465", "0.2470,0.2435,0.2616", null);
        try (Dataset ds = DataSpec.open("cifar10:" + d)) {
            ValidationResult r = Validator.validate(m, m, ds, pre, new Validator.Options(100, Sessions.Config.cpu(), false),
                    s -> { }, (a, b) -> { });
            assertEquals(top1, 100 * r.originalTop1(), 0.1, model + " on " + data);
            assertEquals(1.0, r.agreement());
            assertEquals(0.0, r.maxAbsDiff());
        }
    }

    @Test
    void mnistAccuracy() throws Exception {
        byte[] m = Files.readAllBytes(SharedFiles.model("mnist-8.onnx"));
        Path img = SharedFiles.require("data/mnist/t10k-images-idx3-ubyte.gz");
        Path lab = SharedFiles.require("data/mnist/t10k-labels-idx1-ubyte.gz");
        try (Dataset ds = DataSpec.open("idx:" + img + "," + lab)) {
            ValidationResult r = Validator.validate(m, m, ds, Preprocessing.parse("1", null, null, null), CPU,
                    s -> { }, (a, b) -> { });
            assertEquals(10000, r.samples());
            assertEquals(98.9, 100 * r.originalTop1(), 0.1);
        }
    }
}
