package dev.acdc.cli;

import dev.acdc.testing.SharedFiles;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.acdc.cli.CliTest.assertOneLineError;
import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An ImageNet-style folder of JPEGs of mixed sizes, through --preset imagenet, into a 224x224 model. */
class ImageFolderCliTest {
    @TempDir
    Path tmp;

    private Path imagenetStyleFolder() throws Exception {
        int[][] sizes = {{500, 375}, {333, 500}, {640, 427}, {256, 256}, {300, 451}, {1024, 683}};
        Random r = new Random(5);
        for (int k = 0; k < sizes.length; k++) {
            Path dir = Files.createDirectories(tmp.resolve("imgs/n0144" + (k % 2)));
            BufferedImage img = new BufferedImage(sizes[k][0], sizes[k][1],
                    k == 3 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB); // a grey JPEG, as ImageNet has
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    int v = (x * 255 / img.getWidth() + r.nextInt(40)) & 255;
                    img.setRGB(x, y, (v << 16) | ((255 - v) << 8) | (y * 255 / img.getHeight()));
                }
            }
            ImageIO.write(img, "jpg", dir.resolve("img" + k + ".JPEG").toFile());
        }
        return tmp.resolve("imgs");
    }

    @Test
    void validatesAndFineTunesA224ModelWithTheImagenetPreset() throws Exception {
        Path model = SharedFiles.model("resnet18-imagenet-random.onnx");
        Path imgs = imagenetStyleFolder();
        Path json = tmp.resolve("v.json");
        CliTest.Run v = run("validate", model.toString(), model.toString(), "--data", "folder:" + imgs, "--preset",
                "imagenet", "--json", json.toString());
        assertEquals(0, v.code(), v.err());
        assertTrue(v.err().contains("6 images 224x224 (shorter side resized to 256, center crop 224x224, RGB)"), v.err());
        assertTrue(v.err().contains("mean [0.485, 0.456, 0.406]") || v.err().contains("0.485"), v.err());
        assertEquals(1.0, Json.mapper().readTree(json.toFile()).get("agreement").asDouble(), 0.0);
        // the same images as a list of paths with labels; an output onto a listed image is refused
        StringBuilder lines = new StringBuilder();
        try (var files = Files.walk(imgs)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".JPEG")).sorted().toList()) {
                lines.append(imgs.relativize(p)).append(' ').append(p.getParent().getFileName().toString().endsWith("0") ? 0 : 1)
                        .append('\n');
            }
        }
        Path list = imgs.resolve("val.txt");
        Files.writeString(list, lines);
        CliTest.Run lv = run("validate", model.toString(), model.toString(), "--data", "list:" + list, "--preset", "imagenet");
        assertEquals(0, lv.code(), lv.err());
        assertTrue(lv.err().contains("list: ") && lv.err().contains("6 images 224x224"), lv.err());
        Path listed = imgs.resolve("n01440/img0.JPEG");
        byte[] image = Files.readAllBytes(listed);
        assertOneLineError(run("validate", model.toString(), model.toString(), "--data", "list:" + list, "--preset",
                "imagenet", "--json", listed.toString()), 2, "refusing to overwrite");
        org.junit.jupiter.api.Assertions.assertArrayEquals(image, Files.readAllBytes(listed), "the listed image is untouched");
        Path student = tmp.resolve("r18.acdc.onnx");
        CliTest.Run c = run("compress", model.toString(), "-o", student.toString(), "--fit", "svd");
        assertEquals(0, c.code(), c.err());
        Path out = tmp.resolve("r18.ft.onnx");
        CliTest.Run f = run("finetune", student.toString(), "--teacher", model.toString(), "--train-data",
                "folder:" + imgs, "--preset", "imagenet", "--max-steps", "1", "--batch", "2", "--epochs", "1",
                "--select-split", "0", "-o", out.toString());
        assertEquals(0, f.code(), f.err());
        String rep = Files.readString(tmp.resolve("r18.ft.report.json"));
        assertTrue(rep.contains("shorter side resized to 256, center crop 224x224, RGB"), "the report records the preprocessing");
        assertTrue(rep.contains("for training random-resized crops"), "the report says training drew random-resized crops");
        assertOneLineError(run("finetune", student.toString(), "--teacher", model.toString(), "--train-data",
                "folder:" + imgs, "--preset", "imagenet", "--train-crop", "sideways", "-o", tmp.resolve("x.onnx").toString()),
                2, "--train-crop must be auto, random-resized or center");
        Path before = tmp.resolve("none.onnx");
        assertOneLineError(run("compress", model.toString(), "--train-data", "cifar10:" + imgs.resolve("x.bin"),
                "--train-crop", "random-resized", "-o", before.toString()), 2, "applies to folder: and list: training data");
        assertTrue(!Files.exists(before), "refused before any work");
        assertOneLineError(run("validate", model.toString(), model.toString(), "--data", "folder:" + imgs), 2,
                "bring folder images to the model's size with --resize N --crop HxW (or --preset imagenet)");
        assertOneLineError(run("validate", model.toString(), model.toString(), "--data", "folder:" + imgs, "--preset",
                "cifar"), 2, "--preset must be imagenet");
    }
}
