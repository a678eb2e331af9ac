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
    private final String kind;
    private final Path dir;
    private final List<Path> images = new ArrayList<>();
    private final int[] labels;
    private final List<String> classNames = new ArrayList<>();
    private final int c;
    private final int h;
    private final int w;
    private final ImageGeometry geometry;
    /** Whether {@link #readForTraining} draws torchvision's RandomResizedCrop and a flip (else: as {@link #read}). */
    private final boolean randomResizedCrops;

    /** The images of a data set and their labels (null: none), with the class names. */
    private record Listing(List<Path> images, int[] labels, List<String> classNames) {
    }

    public FolderDataset(Path dir) {
        this(dir, ImageGeometry.NONE);
    }

    public FolderDataset(Path dir, ImageGeometry geometry) {
        this("folder", dir, scan(dir), geometry, false);
    }

    /**
     * A plain list of images ({@code list:FILE}): one image path per line, relative to the list's folder
     * unless absolute, optionally followed by whitespace and an integer label (every line or none);
     * blank lines and lines starting with {@code #} are skipped. Paths may contain spaces.
     */
    public static FolderDataset fromList(Path listFile, ImageGeometry geometry) {
        return new FolderDataset("list", listFile, readList(listFile), geometry, false);
    }

    private FolderDataset(String kind, Path dir, Listing l, ImageGeometry geometry, boolean randomResizedCrops) {
        this.kind = kind;
        this.dir = dir;
        this.geometry = geometry == null ? ImageGeometry.NONE : geometry;
        this.randomResizedCrops = randomResizedCrops;
        images.addAll(l.images());
        labels = l.labels();
        classNames.addAll(l.classNames());
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

    private static Listing scan(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new AcdcException("no such image folder: " + dir);
        }
        List<Path> subdirs;
        try (Stream<Path> s = Files.list(dir)) {
            subdirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new AcdcException("cannot list " + dir + ": " + e.getMessage());
        }
        List<Path> images = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> lab = new ArrayList<>();
        if (subdirs.isEmpty()) {
            images.addAll(imagesIn(dir));
        } else {
            for (int k = 0; k < subdirs.size(); k++) {
                names.add(subdirs.get(k).getFileName().toString());
                for (Path p : imagesIn(subdirs.get(k))) {
                    images.add(p);
                    lab.add(k);
                }
            }
        }
        if (images.isEmpty()) {
            throw new AcdcException("no PNG, JPEG or BMP images in " + dir);
        }
        return new Listing(images, subdirs.isEmpty() ? null : lab.stream().mapToInt(Integer::intValue).toArray(), names);
    }

    /** The image paths a list file names (for "never write over an input"), without decoding any. */
    public static List<Path> listedImages(Path listFile) {
        return readList(listFile).images();
    }

    private static final java.util.regex.Pattern LABELLED = java.util.regex.Pattern.compile("^(.*\\S)\\s+(\\d{1,7})$");

    private static Listing readList(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new AcdcException("no such image list: " + file);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new AcdcException("cannot read the image list " + file + ": " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        List<Path> images = new ArrayList<>();
        List<Integer> lab = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String path = line;
            java.util.regex.Matcher m = LABELLED.matcher(line);
            Path whole = resolve(base, line);
            if (m.matches() && !Files.isRegularFile(whole)) { // "a b.png 3": the image and its label
                path = m.group(1);
                lab.add(Integer.parseInt(m.group(2)));
            }
            Path p = resolve(base, path);
            if (!Files.isRegularFile(p)) {
                throw new AcdcException(file + " line " + (i + 1) + ": no such image " + p);
            }
            images.add(p);
        }
        if (images.isEmpty()) {
            throw new AcdcException("the image list " + file + " names no image");
        }
        if (!lab.isEmpty() && lab.size() != images.size()) {
            throw new AcdcException("the image list " + file + " labels " + lab.size() + " of " + images.size()
                    + " images; label every line or none");
        }
        int[] labels = lab.isEmpty() ? null : lab.stream().mapToInt(Integer::intValue).toArray();
        List<String> names = new ArrayList<>();
        if (labels != null) {
            int classes = java.util.Arrays.stream(labels).max().orElse(0) + 1;
            for (int k = 0; k < classes; k++) {
                names.add(Integer.toString(k));
            }
        }
        return new Listing(images, labels, names);
    }

    private static Path resolve(Path base, String path) {
        try {
            Path p = Path.of(path);
            return p.isAbsolute() ? p : base.resolve(p);
        } catch (java.nio.file.InvalidPathException e) {
            throw new AcdcException("not a file path in the image list: '" + path + "'");
        }
    }

    /**
     * The same images, whose training reads ({@link #readForTraining}) are torchvision's training recipe:
     * a RandomResizedCrop of the decoded image (area 8–100 %, aspect 3/4–4/3) scaled to this set's size,
     * flipped left-right with probability ½. Evaluation reads ({@link #read}) stay the resize and center crop.
     */
    public FolderDataset withRandomResizedCrops() {
        return new FolderDataset(kind, dir, new Listing(images, labels, classNames), geometry, true);
    }

    public boolean randomResizedCrops() {
        return randomResizedCrops;
    }

    /** A crop of an image: top row, left column, height, width. */
    public record Crop(int top, int left, int height, int width) {
    }

    /**
     * torchvision's {@code RandomResizedCrop.get_params} with scale (0.08, 1) and ratio (3/4, 4/3): up to ten
     * draws of an area and a log-uniform aspect ratio that fit, else the largest center crop within the ratios.
     */
    public static Crop randomResizedCrop(int height, int width, java.util.Random rnd) {
        double area = (double) height * width;
        double logLo = Math.log(3.0 / 4);
        double logHi = Math.log(4.0 / 3);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (0.08 + rnd.nextDouble() * (1 - 0.08));
            double aspect = Math.exp(logLo + rnd.nextDouble() * (logHi - logLo));
            int cw = (int) Math.round(Math.sqrt(target * aspect));
            int ch = (int) Math.round(Math.sqrt(target / aspect));
            if (cw > 0 && ch > 0 && cw <= width && ch <= height) {
                return new Crop(rnd.nextInt(height - ch + 1), rnd.nextInt(width - cw + 1), ch, cw);
            }
        }
        double ratio = (double) width / height;
        int cw = width;
        int ch = height;
        if (ratio < 3.0 / 4) {
            ch = (int) Math.round(cw / (3.0 / 4));
        } else if (ratio > 4.0 / 3) {
            cw = (int) Math.round(ch * (4.0 / 3));
        }
        ch = Math.min(ch, height);
        cw = Math.min(cw, width);
        return new Crop((height - ch) / 2, (width - cw) / 2, ch, cw);
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
        return kind + ": " + dir + " (" + images.size() + " images " + w + "x" + h
                + (geometry.isNone() ? "" : " (" + geometry.describe() + ")")
                + (labels == null ? ", no labels" : ", " + classNames.size() + " classes")
                + (randomResizedCrops ? "; for training random-resized crops (area 8-100 %, aspect 3/4-4/3) and flips" : "")
                + ")";
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
        for (int k = 0; k < n; k++) {
            Path p = images.get(start + k);
            BufferedImage decoded = decode(p);
            BufferedImage img = geometry.apply(decoded, p.getFileName().toString());
            if (img.getWidth() != w || img.getHeight() != h) {
                throw new AcdcException("images of mixed sizes: " + p.getFileName() + " is " + img.getWidth() + "x"
                        + img.getHeight() + " but " + images.get(0).getFileName() + " is " + w + "x" + h
                        + " (give --crop HxW, and --resize N, to bring them to one size)");
            }
            toPixels(img, decoded.getRaster().getNumBands() == 1, false, pixels, k * c * h * w);
            if (lab != null && labels != null) {
                lab[k] = labels[start + k];
            }
        }
    }

    @Override
    public void readForTraining(int index, byte[] pixels, int[] lab, long seed) {
        if (!randomResizedCrops) {
            read(index, 1, pixels, lab);
            return;
        }
        Path p = images.get(index);
        BufferedImage decoded = decode(p);
        java.util.Random rnd = new java.util.Random(seed);
        Crop crop = randomResizedCrop(decoded.getHeight(), decoded.getWidth(), rnd);
        BufferedImage img = ImageGeometry.scale(decoded.getSubimage(crop.left(), crop.top(), crop.width(), crop.height()), w, h);
        toPixels(img, false, rnd.nextBoolean(), pixels, 0); // scaled to RGB: grey comes back as its luma
        if (lab != null && labels != null) {
            lab[0] = labels[index];
        }
    }

    /** Writes {@code img} (this set's size) as CHW bytes at {@code base}, in this set's channels, mirrored if asked. */
    private void toPixels(BufferedImage img, boolean grey, boolean mirror, byte[] pixels, int base) {
        int plane = h * w;
        boolean raw = grey && img.getRaster().getNumBands() == 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = mirror ? w - 1 - x : x;
                int rgb = img.getRGB(sx, y);
                if (c == 1) {
                    pixels[base + y * w + x] = (byte) (raw ? img.getRaster().getSample(sx, y, 0)
                            : (int) Math.round(0.299 * ((rgb >> 16) & 255) + 0.587 * ((rgb >> 8) & 255)
                                    + 0.114 * (rgb & 255)));
                } else {
                    pixels[base + y * w + x] = (byte) (rgb >> 16);
                    pixels[base + plane + y * w + x] = (byte) (rgb >> 8);
                    pixels[base + 2 * plane + y * w + x] = (byte) rgb;
                }
            }
        }
    }
}
