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
 * A folder of PNG/JPEG images: one sub-folder per class (classes in sorted order), or images directly
 * in the folder (no labels). All images must have one size; grey images give 1 channel, others RGB.
 * Images are decoded when read.
 */
public final class FolderDataset implements Dataset {
    private final Path dir;
    private final List<Path> images = new ArrayList<>();
    private final int[] labels;
    private final List<String> classNames = new ArrayList<>();
    private final int c;
    private final int h;
    private final int w;

    public FolderDataset(Path dir) {
        this.dir = dir;
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
            throw new AcdcException("no PNG or JPEG images in " + dir);
        }
        labels = subdirs.isEmpty() ? null : lab.stream().mapToInt(Integer::intValue).toArray();
        BufferedImage first = decode(images.get(0));
        h = first.getHeight();
        w = first.getWidth();
        c = first.getRaster().getNumBands() == 1 ? 1 : 3;
    }

    private static List<Path> imagesIn(Path d) {
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return Files.isRegularFile(p) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
            }).sorted().toList();
        } catch (IOException e) {
            throw new AcdcException("cannot list " + d + ": " + e.getMessage());
        }
    }

    private static BufferedImage decode(Path p) {
        try {
            BufferedImage img = ImageIO.read(p.toFile());
            if (img == null) {
                throw new AcdcException("not a readable PNG or JPEG image: " + p);
            }
            return img;
        } catch (IOException e) {
            throw new AcdcException("cannot decode image " + p + ": " + e.getMessage());
        }
    }

    public List<String> classNames() {
        return List.copyOf(classNames);
    }

    @Override
    public String describe() {
        return "folder: " + dir + " (" + images.size() + " images " + w + "x" + h
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
            BufferedImage img = decode(p);
            if (img.getWidth() != w || img.getHeight() != h) {
                throw new AcdcException("images of mixed sizes: " + p.getFileName() + " is " + img.getWidth() + "x"
                        + img.getHeight() + " but " + images.get(0).getFileName() + " is " + w + "x" + h);
            }
            int base = k * c * plane;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    if (c == 1) {
                        pixels[base + y * w + x] = (byte) img.getRaster().getSample(x, y, 0);
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
