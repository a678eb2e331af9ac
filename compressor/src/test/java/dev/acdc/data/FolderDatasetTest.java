package dev.acdc.data;

import dev.acdc.AcdcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Images of any size through resize and center crop, against what each step must give. */
class FolderDatasetTest {
    @TempDir
    Path tmp;

    private static BufferedImage random(int w, int h, long seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        return img;
    }

    private Path write(Path dir, String name, BufferedImage img) throws Exception {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        ImageIO.write(img, name.substring(name.lastIndexOf('.') + 1), p.toFile());
        return p;
    }

    /**
     * A list of image paths (relative, absolute, with a space in the name) with labels reads the same pixels as
     * the images themselves; a list labelled on some lines only, a missing image, an empty list: one message each.
     */
    @Test
    void aListOfImagePathsReadsTheListedImages() throws Exception {
        BufferedImage a = random(9, 7, 4);
        BufferedImage b = random(12, 10, 5);
        Path pa = write(tmp.resolve("imgs"), "a.png", a);
        Path pb = write(tmp.resolve("imgs/sub dir"), "b c.png", b);
        Path list = tmp.resolve("imgs/list.txt");
        Files.writeString(list, "# two images\n" + "a.png 2\n\n" + pb.toAbsolutePath() + " 0\n");
        try (Dataset d = DataSpec.open("list:" + list, new ImageGeometry(0, 6, 8, ImageGeometry.Color.RGB))) {
            assertEquals(2, d.size());
            assertTrue(d.describe().startsWith("list: "), d.describe());
            assertEquals(3, d.classes(), "labels 0..2");
            byte[] px = new byte[2 * 3 * 6 * 8];
            int[] lab = new int[2];
            d.read(0, 2, px, lab);
            assertEquals(2, lab[0]);
            assertEquals(0, lab[1]);
            BufferedImage[] src = {a, b};
            for (int k = 0; k < 2; k++) {
                int top = (int) Math.round((src[k].getHeight() - 6) / 2.0);
                int left = (int) Math.round((src[k].getWidth() - 8) / 2.0);
                int rgb = src[k].getRGB(left + 3, top + 2);
                assertEquals((rgb >> 8) & 255, px[k * 144 + 48 + 2 * 8 + 3] & 255, "green of image " + k);
            }
        }
        assertTrue(DataSpec.files("list:" + list).contains(pb.toAbsolutePath()), "the guard sees every listed image");
        assertTrue(DataSpec.files("list:" + list).contains(tmp.resolve("imgs").toAbsolutePath().resolve("a.png")));
        Files.writeString(list, "a.png\n" + pb + " 1\n");
        AcdcException mixed = assertThrows(AcdcException.class, () -> DataSpec.open("list:" + list));
        assertTrue(mixed.getMessage().contains("label every line or none"), mixed.getMessage());
        Files.writeString(list, "a.png\nnope.png\n");
        AcdcException missing = assertThrows(AcdcException.class, () -> DataSpec.open("list:" + list));
        assertTrue(missing.getMessage().contains("line 2: no such image"), missing.getMessage());
        Files.writeString(list, "# nothing\n");
        AcdcException empty = assertThrows(AcdcException.class, () -> DataSpec.open("list:" + list));
        assertTrue(empty.getMessage().contains("names no image"), empty.getMessage());
        AcdcException none = assertThrows(AcdcException.class, () -> DataSpec.open("list:" + tmp.resolve("no.txt")));
        assertTrue(none.getMessage().contains("no such image list"), none.getMessage());
        assertTrue(Files.exists(pa));
    }

    /** torchvision's RandomResizedCrop parameters: inside the image, 8-100 % of its area, aspect 3/4-4/3, else the center fallback. */
    @Test
    void randomResizedCropsFollowTorchvisionsRule() {
        Random rnd = new Random(3);
        int[][] sizes = {{150, 200}, {224, 224}, {37, 500}, {500, 37}};
        for (int[] hw : sizes) {
            double aspectSeen = 0;
            for (int t = 0; t < 2000; t++) {
                FolderDataset.Crop c = FolderDataset.randomResizedCrop(hw[0], hw[1], rnd);
                assertTrue(c.top() >= 0 && c.left() >= 0 && c.top() + c.height() <= hw[0]
                        && c.left() + c.width() <= hw[1], "inside the image: " + c);
                double area = (double) c.height() * c.width() / (hw[0] * hw[1]);
                double aspect = (double) c.width() / c.height();
                boolean fallback = c.height() == Math.min(hw[0], (int) Math.round(hw[1] / 0.75))
                        && c.width() == Math.min(hw[1], (int) Math.round(hw[0] * 4.0 / 3));
                if (!fallback) {
                    // the drawn area and aspect, up to the rounding of the sides to whole pixels
                    double tol = 2.0 / Math.min(c.height(), c.width()) + 1e-9;
                    assertTrue(area >= 0.08 * (1 - 2 * tol) && area <= 1 + 1e-9, hw[0] + "x" + hw[1] + " area " + area);
                    assertTrue(aspect >= 0.75 * (1 - tol) && aspect <= 4.0 / 3 * (1 + tol), "aspect " + aspect);
                }
                aspectSeen = Math.max(aspectSeen, aspect);
            }
            if (Math.min(hw[0], hw[1]) >= 100) { // a thin strip mostly falls back
                assertTrue(aspectSeen > 1.2, "aspects are drawn, not fixed");
            }
        }
        // a strip far out of the ratios: ten misses, then the largest centered crop at the ratio's limit
        FolderDataset.Crop c = FolderDataset.randomResizedCrop(10, 1000, new Random(1));
        assertEquals(new FolderDataset.Crop(0, (1000 - 13) / 2, 10, 13), c);
    }

    /**
     * A training read is the drawn crop of the decoded image scaled to the set's size, mirrored half the time:
     * on an image whose red is its column and green its row, each output pixel holds the coordinates of the
     * point it was sampled from. The same seed gives the same image; evaluation reads stay the center crop.
     */
    @Test
    void trainingReadsAreRandomResizedCropsOfTheImage() throws Exception {
        BufferedImage img = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 150; y++) {
            for (int x = 0; x < 200; x++) {
                img.setRGB(x, y, (x << 16) | (y << 8));
            }
        }
        write(tmp.resolve("g/a"), "g.png", img);
        try (FolderDataset plain = new FolderDataset(tmp.resolve("g"), new ImageGeometry(0, 32, 32, ImageGeometry.Color.RGB))) {
            FolderDataset d = plain.withRandomResizedCrops();
            assertTrue(d.describe().contains("random-resized crops"), d.describe());
            byte[] center = new byte[3 * 32 * 32];
            byte[] viaTraining = new byte[center.length];
            plain.readForTraining(0, viaTraining, null, 5);
            plain.read(0, 1, center, null);
            assertTrue(java.util.Arrays.equals(center, viaTraining), "without the option a training read is the center crop");
            int mirrored = 0;
            for (long seed = 0; seed < 12; seed++) {
                byte[] px = new byte[3 * 32 * 32];
                int[] lab = new int[1];
                d.readForTraining(0, px, lab, seed);
                byte[] again = new byte[px.length];
                d.readForTraining(0, again, null, seed);
                assertTrue(java.util.Arrays.equals(px, again), "seeded");
                Random rnd = new Random(seed);
                FolderDataset.Crop c = FolderDataset.randomResizedCrop(150, 200, rnd);
                boolean mirror = rnd.nextBoolean();
                mirrored += mirror ? 1 : 0;
                double sx = c.width() / 32.0;
                double sy = c.height() / 32.0;
                double tol = 1.5 + Math.max(sx, sy);
                for (int y = 2; y < 30; y++) {
                    for (int x = 2; x < 30; x++) {
                        int ox = mirror ? 31 - x : x;
                        double wantR = c.left() + (ox + 0.5) * sx - 0.5;
                        double wantG = c.top() + (y + 0.5) * sy - 0.5;
                        int r = px[y * 32 + x] & 255;
                        int g = px[32 * 32 + y * 32 + x] & 255;
                        assertEquals(wantR, r, tol, "seed " + seed + " " + c + " red at (" + x + "," + y + ")");
                        assertEquals(wantG, g, tol, "seed " + seed + " " + c + " green at (" + x + "," + y + ")");
                    }
                }
            }
            assertTrue(mirrored > 0 && mirrored < 12, "flipped about half the time: " + mirrored + " of 12");
        }
    }

    /** A crop without resize copies the centre pixels exactly (PNG, lossless; torchvision's rounding of the offset). */
    @Test
    void centerCropCopiesTheCentrePixels() throws Exception {
        BufferedImage a = random(9, 7, 1);
        BufferedImage b = random(6, 10, 2);
        write(tmp.resolve("d/cat"), "a.png", a);
        write(tmp.resolve("d/dog"), "b.bmp", b);
        try (FolderDataset d = new FolderDataset(tmp.resolve("d"), new ImageGeometry(0, 4, 5, ImageGeometry.Color.RGB))) {
            assertEquals(2, d.size());
            assertEquals(4, d.height());
            assertEquals(5, d.width());
            assertTrue(d.describe().contains("center crop 4x5"), d.describe());
            byte[] px = new byte[2 * 3 * 20];
            int[] lab = new int[2];
            d.read(0, 2, px, lab);
            assertEquals(0, lab[0]);
            assertEquals(1, lab[1]);
            BufferedImage[] src = {a, b};
            for (int k = 0; k < 2; k++) {
                int top = (int) Math.round((src[k].getHeight() - 4) / 2.0);
                int left = (int) Math.round((src[k].getWidth() - 5) / 2.0);
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 5; x++) {
                        int rgb = src[k].getRGB(left + x, top + y);
                        assertEquals((byte) (rgb >> 16), px[k * 60 + y * 5 + x]);
                        assertEquals((byte) (rgb >> 8), px[k * 60 + 20 + y * 5 + x]);
                        assertEquals((byte) rgb, px[k * 60 + 40 + y * 5 + x]);
                    }
                }
            }
        }
    }

    /** Resize: the shorter side becomes N with the aspect kept; a flat image stays flat; grey is the luma. */
    @Test
    void resizeKeepsTheAspectAndFlatColour() throws Exception {
        BufferedImage flat = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 300; y++) {
            for (int x = 0; x < 400; x++) {
                flat.setRGB(x, y, (200 << 16) | (100 << 8) | 50);
            }
        }
        BufferedImage shaped = new ImageGeometry(60, 0, 0, ImageGeometry.Color.AUTO).apply(flat, "flat");
        assertEquals(80, shaped.getWidth());
        assertEquals(60, shaped.getHeight());
        write(tmp.resolve("f"), "flat.png", flat);
        write(tmp.resolve("f"), "tall.png", random(120, 500, 3));
        try (FolderDataset d = new FolderDataset(tmp.resolve("f"), new ImageGeometry(64, 48, 48, ImageGeometry.Color.GRAY))) {
            assertEquals(1, d.channels());
            byte[] px = new byte[2 * 48 * 48];
            d.read(0, 2, px, null);
            int luma = (int) Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50);
            for (int i = 0; i < 48 * 48; i++) {
                assertEquals(luma, px[i] & 255, "flat image, pixel " + i);
            }
        }
    }

    @Test
    void mixedSizesAndSmallImagesAreNamed() throws Exception {
        write(tmp.resolve("m"), "a.png", random(10, 10, 1));
        write(tmp.resolve("m"), "b.png", random(12, 10, 2));
        try (FolderDataset d = new FolderDataset(tmp.resolve("m"))) {
            AcdcException e = assertThrows(AcdcException.class, () -> d.read(0, 2, new byte[2 * 3 * 100], null));
            assertTrue(e.getMessage().contains("images of mixed sizes") && e.getMessage().contains("--crop"), e.getMessage());
        }
        AcdcException small = assertThrows(AcdcException.class,
                () -> new FolderDataset(tmp.resolve("m"), new ImageGeometry(0, 32, 32, ImageGeometry.Color.AUTO)));
        assertTrue(small.getMessage().contains("smaller than the 32x32 crop (give --resize)"), small.getMessage());
        AcdcException crop = assertThrows(AcdcException.class, () -> ImageGeometry.parseCrop("224x"));
        assertTrue(crop.getMessage().startsWith("--crop must be HxW"), crop.getMessage());
        AcdcException kind = assertThrows(AcdcException.class, () -> DataSpec.open("cifar10:x.bin", ImageGeometry.IMAGENET));
        assertTrue(kind.getMessage().contains("apply to folder: and list: data"), kind.getMessage());
    }
}
