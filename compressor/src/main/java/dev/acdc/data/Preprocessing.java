package dev.acdc.data;

import dev.acdc.AcdcException;

import java.util.Arrays;

/**
 * Pixel → model input: {@code (pixel·scale − mean[c]) / std[c]}, laid out NCHW or NHWC. A one-value
 * mean or std applies to every channel.
 */
public record Preprocessing(double scale, double[] mean, double[] std, boolean nhwc) {

    public static Preprocessing defaults() {
        return new Preprocessing(1 / 255.0, new double[] {0}, new double[] {1}, false);
    }

    public static Preprocessing parse(String scale, String mean, String std, String layout) {
        double sc = scale == null ? 1 / 255.0 : number("--scale", scale);
        double[] mu = mean == null ? new double[] {0} : list("--mean", mean);
        double[] sd = std == null ? new double[] {1} : list("--std", std);
        if (!(sc > 0) || Double.isInfinite(sc)) {
            throw new AcdcException("--scale must be a finite number above 0, got " + sc);
        }
        for (double mv : mu) {
            if (!Double.isFinite(mv)) {
                throw new AcdcException("--mean values must be finite numbers, got " + mv);
            }
        }
        for (double s : sd) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new AcdcException("--std values must be finite numbers above 0, got " + s);
            }
        }
        boolean hwc;
        if (layout == null || layout.equalsIgnoreCase("nchw")) {
            hwc = false;
        } else if (layout.equalsIgnoreCase("nhwc")) {
            hwc = true;
        } else {
            throw new AcdcException("--layout must be nchw or nhwc, got '" + layout + "'");
        }
        return new Preprocessing(sc, mu, sd, hwc);
    }

    /** "1/255", "0.5" → number. */
    static double number(String opt, String s) {
        try {
            String t = s.trim();
            int slash = t.indexOf('/');
            if (slash > 0) {
                return Double.parseDouble(t.substring(0, slash)) / Double.parseDouble(t.substring(slash + 1));
            }
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new AcdcException(opt + " '" + s + "' is not a number (e.g. 1/255 or 0.5)");
        }
    }

    static double[] list(String opt, String s) {
        String[] parts = s.split(",");
        double[] v = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            v[i] = number(opt, parts[i]);
        }
        return v;
    }

    /** Checks per-channel lists fit a data set with {@code channels} channels. */
    public void checkChannels(int channels) {
        if (mean.length != 1 && mean.length != channels) {
            throw new AcdcException("--mean has " + mean.length + " values but the images have " + channels + " channels");
        }
        if (std.length != 1 && std.length != channels) {
            throw new AcdcException("--std has " + std.length + " values but the images have " + channels + " channels");
        }
    }

    /** One image's shape in the model's layout: [c, h, w], or [h, w, c] for nhwc. */
    public long[] sample(int c, int h, int w) {
        return nhwc ? new long[] {h, w, c} : new long[] {c, h, w};
    }

    /** The same preprocessing, laid out channels-first (for steps that work on planes, e.g. augmentation). */
    public Preprocessing channelsFirst() {
        return nhwc ? new Preprocessing(scale, mean, std, false) : this;
    }

    /** Lays out n channels-first images (n×c×h×w) as this preprocessing's layout requires; a copy for nhwc. */
    public float[] layout(float[] nchw, int n, int c, int h, int w) {
        if (!nhwc) {
            return nchw;
        }
        int plane = h * w;
        float[] out = new float[nchw.length];
        for (int k = 0; k < n; k++) {
            int base = k * c * plane;
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < plane; i++) {
                    out[base + i * c + ch] = nchw[base + ch * plane + i];
                }
            }
        }
        return out;
    }

    /** Converts n images of CHW bytes into floats in the chosen layout. */
    public void apply(byte[] pixels, int n, int c, int h, int w, float[] out) {
        int plane = h * w;
        float[] a = new float[c];
        float[] b = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double m = mean.length == 1 ? mean[0] : mean[ch];
            double s = std.length == 1 ? std[0] : std[ch];
            a[ch] = (float) (scale / s);
            b[ch] = (float) (-m / s);
        }
        for (int k = 0; k < n; k++) {
            int base = k * c * plane;
            for (int ch = 0; ch < c; ch++) {
                float ac = a[ch];
                float bc = b[ch];
                int src = base + ch * plane;
                if (!nhwc) {
                    for (int i = 0; i < plane; i++) {
                        out[src + i] = (pixels[src + i] & 0xff) * ac + bc;
                    }
                } else {
                    for (int i = 0; i < plane; i++) {
                        out[base + i * c + ch] = (pixels[src + i] & 0xff) * ac + bc;
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return "scale " + spellScale(scale) + ", mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std) + ", "
                + (nhwc ? "nhwc" : "nchw");
    }

    /** A pixel scale as a person writes it: 1/255 rather than 0.00392156862745098. */
    static String spellScale(double scale) {
        if (scale > 0 && scale < 1) {
            double inverse = 1 / scale;
            long rounded = Math.round(inverse);
            if (Math.abs(inverse - rounded) < 1e-9 * inverse) {
                return "1/" + rounded;
            }
        }
        return scale == Math.rint(scale) ? Long.toString((long) scale) : Double.toString(scale);
    }
}
