package dev.acdc.data;

import dev.acdc.AcdcException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A folder of PNG/JPEG/BMP images: one sub-folder per class (classes in sorted order), or images
 * directly in the folder (no labels). Images are decoded when read and brought to one size by an
 * {@link ImageGeometry} (resize, center crop); without a crop all images must have one size. Channels:
 * as the geometry's color says (RGB: grey images repeated over three channels; grey: the luma
 * 0.299 R + 0.587 G + 0.114 B of colour images, as PIL's "L"), or by the first image.
 */
public final class FolderDataset implements Dataset {
    private final Path dir;
    private final List<Path> images = new ArrayList<>();
    private final int[] labels;
    private final List<String> classNames = new ArrayList<>();
    private final int c;
    private final int h;
    private final int w;
    private final ImageGeometry geometry;

    public FolderDataset(Path dir) {
        this(dir, ImageGeometry.NONE);
    }

    public FolderDataset(Path dir, ImageGeometry geometry) {
        this.dir = dir;
        this.geometry = geometry == null ? ImageGeometry.NONE : geometry;
        if (!Files.isDirectory(dir)) {
            throw new AcdcException("no such image folder: " + dir);
        }
        List<Path> subdirs;
        try (Stream<Path> s = Files.list(dir)) {
            subdirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new AcdcException("cannot list " + dir + ": " + e.getMessage());
        }
        List<Integer> lab = new ArrayList<>();
        if (subdirs.isEmpty()) {
            images.addAll(imagesIn(dir));
        } else {
            for (int k = 0; k < subdirs.size(); k++) {
                classNames.add(subdirs.get(k).getFileName().toString());
                for (Path p : imagesIn(subdirs.get(k))) {
                    images.add(p);
                    lab.add(k);
                }
            }
        }
        if (images.isEmpty()) {
            throw new AcdcException("no PNG, JPEG or BMP images in " + dir);
        }
        labels = subdirs.isEmpty() ? null : lab.stream().mapToInt(Integer::intValue).toArray();
        BufferedImage first = decode(images.get(0));
        BufferedImage shaped = this.geometry.apply(first, images.get(0).getFileName().toString());
        h = shaped.getHeight();
        w = shaped.getWidth();
        c = switch (this.geometry.color()) {
            case RGB -> 3;
            case GRAY -> 1;
            case AUTO -> first.getRaster().getNumBands() == 1 ? 1 : 3;
        };
    }

    private static List<Path> imagesIn(Path d) {
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return Files.isRegularFile(p) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg")
                        || n.endsWith(".bmp"));
            }).sorted().toList();
        } catch (IOException e) {
            throw new AcdcException("cannot list " + d + ": " + e.getMessage());
        }
    }

    private static BufferedImage decode(Path p) {
        try {
            BufferedImage img = ImageIO.read(p.toFile());
            if (img == null) {
                throw new AcdcException("not a readable PNG, JPEG or BMP image: " + p);
            }
            return img;
        } catch (IOException | RuntimeException e) {
            if (e instanceof AcdcException a) {
                throw a;
            }
            throw new AcdcException("cannot decode image " + p + ": " + e.getMessage());
        }
    }

    public List<String> classNames() {
        return List.copyOf(classNames);
    }

    @Override
    public String describe() {
        return "folder: " + dir + " (" + images.size() + " images " + w + "x" + h
                + (geometry.isNone() ? "" : " (" + geometry.describe() + ")")
                + (labels == null ? ", no labels" : ", " + classNames.size() + " classes") + ")";
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public int channels() {
        return c;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public int[] labels() {
        return labels == null ? new int[0] : labels.clone();
    }

    @Override
    public boolean hasLabels() {
        return labels != null;
    }

    @Override
    public int classes() {
        return classNames.size();
    }

    @Override
    public void read(int start, int n, byte[] pixels, int[] lab) {
        int plane = h * w;
        for (int k = 0; k < n; k++) {
            Path p = images.get(start + k);
            BufferedImage decoded = decode(p);
            boolean grey = decoded.getRaster().getNumBands() == 1;
            BufferedImage img = geometry.apply(decoded, p.getFileName().toString());
            if (img.getWidth() != w || img.getHeight() != h) {
                throw new AcdcException("images of mixed sizes: " + p.getFileName() + " is " + img.getWidth() + "x"
                        + img.getHeight() + " but " + images.get(0).getFileName() + " is " + w + "x" + h
                        + " (give --crop HxW, and --resize N, to bring them to one size)");
            }
            boolean raw = grey && img.getRaster().getNumBands() == 1;
            int base = k * c * plane;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    if (c == 1) {
                        pixels[base + y * w + x] = (byte) (raw ? img.getRaster().getSample(x, y, 0)
                                : (int) Math.round(0.299 * ((rgb >> 16) & 255) + 0.587 * ((rgb >> 8) & 255)
                                        + 0.114 * (rgb & 255)));
                    } else {
                        pixels[base + y * w + x] = (byte) (rgb >> 16);
                        pixels[base + plane + y * w + x] = (byte) (rgb >> 8);
                        pixels[base + 2 * plane + y * w + x] = (byte) rgb;
                    }
                }
            }
            if (lab != null && labels != null) {
                lab[k] = labels[start + k];
            }
        }
    }
}
