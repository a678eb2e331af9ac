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
        assertTrue(kind.getMessage().contains("apply to folder: data"), kind.getMessage());
    }
}
