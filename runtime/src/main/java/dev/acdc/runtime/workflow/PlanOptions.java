package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Settings;

/**
 * The plan stage's options ({@code plan.*} in a recipe): the decomposition {@code settings} (scope, atoms, 1×1
 * rank, per-set counts), a size target ({@code targetSize}: output bytes at most this fraction of the input's) or
 * a drop target ({@code targetDrop}: the smallest size whose predicted top-1 drop on the calibration images is
 * at most that many points), each null when not asked for, and the size of the report's per-set sensitivity
 * sample ({@code sensitivityImages}; 0: none, {@link #AUTO}: chosen by the model's cost). Checked here, once.
 */
public record PlanOptions(Settings settings, Double targetSize, Double targetDrop, int sensitivityImages) {
    /** The report's sensitivity sample by default: enough to rank sets, cheap next to the fit. */
    public static final int SENSITIVITY_IMAGES = 128;
    /** {@code sensitivityImages}: chosen by the model's cost ({@link #sensitivitySample}). */
    public static final int AUTO = -1;
    /**
     * The multiply-adds the default sweep may spend: 6 compressions a conv, each run on its images. ResNet-20 and
     * -56 at 32×32 (6e11, 5e12) keep 128 images; an ImageNet ResNet-18 at 224 gets 46; ResNet-50 none.
     */
    public static final double SENSITIVITY_BUDGET_MACS = 1e13;
    /** Fewer images than this rank nothing: the default sweep is skipped instead. */
    public static final int SENSITIVITY_MIN_IMAGES = 16;

    public PlanOptions {
        if (settings == null) {
            throw new IllegalArgumentException("settings are required");
        }
        if (targetSize != null && !(targetSize > 0 && targetSize <= 1)) {
            throw new AcdcException("--target-size must be a fraction of the input's bytes in (0, 1], got " + targetSize);
        }
        if (targetDrop != null && !(targetDrop >= 0 && targetDrop <= 100)) {
            throw new AcdcException("--target-drop must be between 0 and 100 points, got " + targetDrop);
        }
        if (targetDrop != null && targetSize != null) {
            throw new AcdcException("--target-drop and --target-size both choose the size: give one of them");
        }
        if (!settings.setAtoms().isEmpty() && (targetSize != null || targetDrop != null)) {
            throw new AcdcException("--set-atoms and --target-" + (targetSize != null ? "size" : "drop")
                    + " both choose the atoms per set: give one of them");
        }
        if (sensitivityImages < 0 && sensitivityImages != AUTO) {
            throw new AcdcException("--sensitivity-images must be 0 (none) or more, got " + sensitivityImages);
        }
    }

    /** {@code settings} as they are, no size or drop target, the sensitivity sample chosen by the model's cost. */
    public static PlanOptions of(Settings settings) {
        return new PlanOptions(settings, null, null, AUTO);
    }

    /** Whether the plan searches the atoms per set on the calibration images (a size or drop target). */
    public boolean searches() {
        return targetSize != null || targetDrop != null;
    }

    public PlanOptions withSettings(Settings s) {
        return new PlanOptions(s, targetSize, targetDrop, sensitivityImages);
    }

    public PlanOptions withTargetSize(Double fraction) {
        return new PlanOptions(settings, fraction, targetDrop, sensitivityImages);
    }

    public PlanOptions withTargetDrop(Double points) {
        return new PlanOptions(settings, targetSize, points, sensitivityImages);
    }

    public PlanOptions withSensitivityImages(int n) {
        return new PlanOptions(settings, targetSize, targetDrop, n);
    }

    /**
     * The sensitivity sample's size for a network of {@code macs} multiply-adds an image and {@code convs}
     * convolutions: the requested size, or for {@link #AUTO} {@value #SENSITIVITY_IMAGES} images capped so the
     * sweep stays within {@link #SENSITIVITY_BUDGET_MACS} (0, skipped, below {@value #SENSITIVITY_MIN_IMAGES}).
     * It depends on the model alone, so a recipe reruns the same sweep on any machine.
     */
    public int sensitivitySample(long macs, int convs) {
        if (sensitivityImages != AUTO) {
            return sensitivityImages;
        }
        double per = 6.0 * Math.max(1, convs) * Math.max(1, macs);
        int n = (int) Math.min(SENSITIVITY_IMAGES, Math.floor(SENSITIVITY_BUDGET_MACS / per));
        return n < SENSITIVITY_MIN_IMAGES ? 0 : n;
    }
}
