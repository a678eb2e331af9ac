package dev.acdc.runtime;

import java.util.Locale;

/**
 * A check on the data rather than on the compression: when the original model itself is right on few of
 * the labelled images, the likeliest cause is the preprocessing (a missing --mean/--std, the wrong
 * --scale or --layout) or labels in another class order, and every figure measured on those images,
 * drops included, then means little (measured: ResNet-20 for CIFAR-10 given its images without its
 * --mean/--std is right on 27.5 % of 512 of its training images, on 85.0 % of the same images with them).
 */
public final class OriginalAccuracy {
    /** The original's top-1 below this, on labelled images, is called out. */
    public static final double LOW = 0.5;

    private OriginalAccuracy() {
    }

    /**
     * The warning for an original that is right on {@code top1} of {@code images} labelled images
     * ({@code which}: "evaluation", "calibration"), or null when top-1 is at least {@link #LOW} or unknown (NaN).
     */
    public static String warning(double top1, int images, String which) {
        if (!(top1 < LOW)) {
            return null;
        }
        return String.format(Locale.ROOT, "the original model itself is right on only %.1f %% of the %,d labelled %s "
                + "images: if it should do better, check the preprocessing (--mean, --std, --scale, --layout, or "
                + "--preset) and that the labels follow the model's class order; the figures on these images mean little "
                + "until then", 100 * top1, images, which);
    }
}
