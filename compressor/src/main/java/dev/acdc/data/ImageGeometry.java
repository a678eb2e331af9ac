package dev.acdc.data;

import dev.acdc.AcdcException;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * How decoded images of any size become model inputs of one size: the shorter side resized to
 * {@code resize} (bilinear, keeping the aspect ratio; 0: as they are), then a center crop of
 * {@code cropH × cropW} (0: none), and the color made explicit ({@link Color}). torchvision's ImageNet
 * evaluation recipe is {@link #IMAGENET}: resize 256, center crop 224×224, RGB.
 */
public record ImageGeometry(int resize, int cropH, int cropW, Color color) {
    /** Channels of the inputs: {@code AUTO} by the first image (grey gives 1), or forced. */
    public enum Color { AUTO, RGB, GRAY }

    /** Images as they are. */
    public static final ImageGeometry NONE = new ImageGeometry(0, 0, 0, Color.AUTO);
    /** torchvision's ImageNet evaluation transform: Resize(256), CenterCrop(224), RGB. */
    public static final ImageGeometry IMAGENET = new ImageGeometry(256, 224, 224, Color.RGB);

    public ImageGeometry {
        if (resize < 0 || cropH < 0 || cropW < 0 || (cropH == 0) != (cropW == 0)) {
            throw new AcdcException("image geometry: resize and crop sizes must be positive, got resize " + resize
                    + ", crop " + cropH + "x" + cropW);
        }
        if (resize > 8192 || cropH > 8192 || cropW > 8192) {
            throw new AcdcException("image geometry: at most 8192 pixels a side, got resize " + resize + ", crop "
                    + cropH + "x" + cropW);
        }
        color = color == null ? Color.AUTO : color;
    }

    /** Parses {@code --crop HxW} (or a single N for N×N). */
    public static int[] parseCrop(String v) {
        String[] p = v.trim().toLowerCase(java.util.Locale.ROOT).split("x", -1);
        try {
            int h = Integer.parseInt(p[0].trim());
            int w = p.length > 1 ? Integer.parseInt(p[1].trim()) : h;
            if (p.length > 2 || h < 1 || w < 1) {
                throw new NumberFormatException();
            }
            return new int[] {h, w};
        } catch (NumberFormatException e) {
            throw new AcdcException("--crop must be HxW (or N), positive pixels, got '" + v + "'");
        }
    }

    public boolean isNone() {
        return resize == 0 && cropH == 0 && color == Color.AUTO;
    }

    /** The fixed output size, or null when it depends on the image (no crop). */
    public int[] outputSize() {
        return cropH > 0 ? new int[] {cropH, cropW} : null;
    }

    /** Applies the resize and the crop (the color is applied when pixels are read). */
    public BufferedImage apply(BufferedImage img, String name) {
        BufferedImage r = img;
        if (resize > 0) {
            int w = img.getWidth();
            int h = img.getHeight();
            double s = (double) resize / Math.min(w, h);
            int nw = Math.max(1, (int) Math.round(w * s));
            int nh = Math.max(1, (int) Math.round(h * s));
            if (w < h) {
                nw = resize;
            } else {
                nh = resize;
            }
            r = scale(img, nw, nh);
        }
        if (cropH > 0) {
            if (r.getWidth() < cropW || r.getHeight() < cropH) {
                throw new AcdcException("image " + name + " is " + r.getWidth() + "x" + r.getHeight()
                        + (resize > 0 ? " after the resize" : "") + ", smaller than the " + cropW + "x" + cropH
                        + " crop (give --resize)");
            }
            // torchvision's CenterCrop: top = round((H - h) / 2), left = round((W - w) / 2)
            int top = (int) Math.round((r.getHeight() - cropH) / 2.0);
            int left = (int) Math.round((r.getWidth() - cropW) / 2.0);
            r = r.getSubimage(left, top, cropW, cropH);
        }
        return r;
    }

    /**
     * Bilinear resampling; a large reduction goes in halving steps first so that every source pixel
     * contributes (plain bilinear would skip most of them, aliasing as PIL's antialiased resize does not).
     */
    static BufferedImage scale(BufferedImage src, int w, int h) {
        BufferedImage cur = toRgb(src);
        while (cur.getWidth() / 2 >= w && cur.getHeight() / 2 >= h) {
            cur = draw(cur, cur.getWidth() / 2, cur.getHeight() / 2);
        }
        return draw(cur, w, h);
    }

    private static BufferedImage draw(BufferedImage src, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    private static BufferedImage toRgb(BufferedImage src) {
        if (src.getType() == BufferedImage.TYPE_INT_RGB) {
            return src;
        }
        BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.drawImage(src, 0, 0, null);
        g.dispose();
        return out;
    }

    /** For data set descriptions and reports. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        if (resize > 0) {
            b.append("shorter side resized to ").append(resize);
        }
        if (cropH > 0) {
            b.append(b.length() > 0 ? ", " : "").append("center crop ").append(cropH).append("x").append(cropW);
        }
        if (color != Color.AUTO) {
            b.append(b.length() > 0 ? ", " : "").append(color == Color.RGB ? "RGB" : "grey");
        }
        return b.toString();
    }
}
