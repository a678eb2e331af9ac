package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.ir.Node;

/**
 * ONNX Resize along one axis as a matrix {@code A[out][in]}: row {@code i} holds the weights output
 * index {@code i} takes from the inputs, for the coordinate transformation modes half_pixel,
 * pytorch_half_pixel, align_corners, asymmetric and tf_half_pixel_for_nn, nearest (with its rounding
 * modes) or linear interpolation (clamped at the edges, as ONNX Runtime does).
 */
final class ResizeMatrices {
    private ResizeMatrices() {
    }

    /** {@code scale}: the node's scale for this axis, or NaN when it gives sizes (the scale is then out/in). */
    static float[][] of(Node n, long in, long out, double scale) {
        String mode = n.attrString("mode", "nearest");
        String ctm = n.attrString("coordinate_transformation_mode", "half_pixel");
        String nearest = n.attrString("nearest_mode", "round_prefer_floor");
        if (!mode.equals("nearest") && !mode.equals("linear")) {
            throw new AcdcException("Resize '" + n.label() + "' mode " + mode + " is not supported for fine-tuning");
        }
        if (n.attrInt("exclude_outside", 0) != 0 || ctm.equals("tf_crop_and_resize")) {
            throw new AcdcException("Resize '" + n.label() + "' with " + ctm + " or exclude_outside is not supported "
                    + "for fine-tuning");
        }
        if (Double.isNaN(scale)) {
            scale = (double) out / in;
        }
        float[][] a = new float[(int) out][(int) in];
        for (int i = 0; i < out; i++) {
            double x = switch (ctm) {
                case "half_pixel" -> (i + 0.5) / scale - 0.5;
                case "pytorch_half_pixel" -> out > 1 ? (i + 0.5) / scale - 0.5 : 0;
                case "align_corners" -> out == 1 ? 0 : i * (in - 1.0) / (out - 1.0);
                case "asymmetric" -> i / scale;
                case "tf_half_pixel_for_nn" -> (i + 0.5) / scale;
                default -> throw new AcdcException("Resize '" + n.label() + "': coordinate_transformation_mode " + ctm
                        + " is not supported for fine-tuning");
            };
            if (mode.equals("nearest")) {
                long j = switch (nearest) {
                    case "round_prefer_floor" -> x == Math.floor(x) + 0.5 ? (long) Math.floor(x) : Math.round(x);
                    case "round_prefer_ceil" -> Math.round(x);
                    case "floor" -> (long) Math.floor(x);
                    case "ceil" -> (long) Math.ceil(x);
                    default -> throw new AcdcException("Resize '" + n.label() + "': nearest_mode " + nearest
                            + " is not supported for fine-tuning");
                };
                a[i][(int) Math.max(0, Math.min(in - 1, j))] = 1;
            } else {
                double c = Math.max(0, Math.min(in - 1, x));
                int j0 = (int) Math.floor(c);
                int j1 = (int) Math.min(in - 1, j0 + 1);
                double w1 = c - j0;
                a[i][j0] += (float) (1 - w1);
                a[i][j1] += (float) w1;
            }
        }
        return a;
    }
}
