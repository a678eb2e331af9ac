package dev.acdc.ir;

import dev.acdc.AcdcException;

/**
 * The geometry of an ONNX {@code ConvTranspose} along each spatial axis, as the operator's definition
 * gives it: the output size {@code s·(in−1) + output_padding + (k−1)·d + 1 − pad_begin − pad_end}, with the
 * pads either stated, or derived from {@code output_shape} / {@code auto_pad} (the total split with the
 * larger half at the end for {@code SAME_UPPER}, at the begin otherwise, as the specification says).
 * The weight is {@code [I, O/group, k...]}. Used by shape inference and by the fine-tune's lowering.
 */
public record ConvTransposeGeometry(long[] strides, long[] dilations, long[] kernel, long[] padBegin,
                                    long[] padEnd, long[] outputPadding, long[] out) {

    /** The geometry of node {@code n} for input spatial sizes {@code in} (−1: unknown) and kernel sizes. */
    public static ConvTransposeGeometry of(Node n, long[] in, long[] kernel) {
        int sd = in.length;
        long[] s = fill(n.attrInts("strides", null), sd, 1);
        long[] d = fill(n.attrInts("dilations", null), sd, 1);
        long[] op = fill(n.attrInts("output_padding", null), sd, 0);
        long[] pads = n.attrInts("pads", null);
        long[] outputShape = n.attrInts("output_shape", null);
        String autoPad = n.attrString("auto_pad", "NOTSET");
        long[] begin = new long[sd];
        long[] end = new long[sd];
        long[] out = new long[sd];
        for (int i = 0; i < sd; i++) {
            long full = in[i] < 0 ? -1 : s[i] * (in[i] - 1) + op[i] + (kernel[i] - 1) * d[i] + 1;
            long target = -1;
            if (outputShape != null) {
                target = outputShape[outputShape.length - sd + i];
            } else if (autoPad.startsWith("SAME")) {
                target = in[i] < 0 ? -1 : in[i] * s[i];
            }
            if (outputShape != null || autoPad.startsWith("SAME")) {
                long total = full < 0 || target < 0 ? 0 : full - target;
                if (total < 0) {
                    throw new AcdcException("ConvTranspose '" + n.label() + "': output_shape " + target
                            + " is larger than the " + full + " the input gives");
                }
                // the specification: SAME_UPPER puts the larger half at the end, anything else at the begin
                begin[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
            } else if (pads != null && !autoPad.equals("VALID")) {
                begin[i] = pads[i];
                end[i] = pads[i + sd];
            }
            out[i] = full < 0 ? -1 : full - begin[i] - end[i];
            if (full >= 0 && out[i] <= 0) {
                throw new AcdcException("ConvTranspose '" + n.label() + "': pads " + begin[i] + "+" + end[i]
                        + " leave no output of the " + full + " positions");
            }
        }
        return new ConvTransposeGeometry(s, d, kernel, begin, end, op, out);
    }

    private static long[] fill(long[] v, int n, long dflt) {
        if (v != null && v.length == n) {
            return v;
        }
        long[] r = new long[n];
        java.util.Arrays.fill(r, dflt);
        return r;
    }
}
