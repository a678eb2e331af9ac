package dev.acdc.ir.ops;

import dev.acdc.ir.OperatorRule;
import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.ConvTransposeGeometry;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeContext;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.ShapeInference.Facts;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Sliding-window operators: Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool. */
public final class ConvolutionRules {
    private ConvolutionRules() {
    }

    static List<OperatorRule> rules() {
        return List.of(
                OperatorRule.of("Conv", 2, 3, 1, 1, ConvolutionRules::conv).withMacs(ConvolutionRules::convMacs),
                OperatorRule.of("ConvTranspose", 2, 3, 1, 1, ConvolutionRules::convTranspose)
                        .withMacs(ConvolutionRules::convMacs),
                OperatorRule.of("MaxPool", 1, 1, 1, 2, ConvolutionRules::pool),
                OperatorRule.of("AveragePool", 1, 1, 1, 1, ConvolutionRules::pool),
                OperatorRule.unary("GlobalAveragePool", (c, n) -> {
                    long[] x = c.shapeIn(n, 0);
                    long[] y = x.clone();
                    for (int i = 2; i < y.length; i++) {
                        y[i] = 1;
                    }
                    c.set(n, 0, c.typeIn(n, 0), y, null);
                }));
    }

    /**
     * A Conv's kernel meets every output position, a ConvTranspose's every input position: the kernel's
     * size times those positions (batch included); -1 when their shape or the kernel's is not known.
     */
    public static long convMacs(Node n, java.util.Map<String, Facts> facts) {
        Facts wf = facts.get(n.input(1));
        Facts pf = facts.get(n.is("ConvTranspose") ? n.input(0) : n.output(0));
        if (wf == null || wf.shape() == null || pf == null || pf.shape() == null) {
            return -1;
        }
        long positions = 1;
        long[] y = pf.shape();
        for (int i = 0; i < y.length; i++) {
            if (i != 1) {
                positions *= OperatorRule.positive(y[i]);
            }
        }
        return Tensor.numel(wf.shape()) * positions;
    }

    static void conv(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] w = c.shapeIn(n, 1);
        if (x.length != w.length || x.length < 3) {
            throw new AcdcException("Conv '" + n.label() + "': input rank " + x.length + " and weight rank " + w.length
                    + " do not match");
        }
        long group = n.attrInt("group", 1);
        if (x[1] >= 0 && x[1] != w[1] * group) {
            throw new AcdcException("Conv '" + n.label() + "': input has " + x[1] + " channels but the weight expects "
                    + w[1] + " x group " + group);
        }
        long[] kernel = Arrays.copyOfRange(w, 2, w.length);
        long[] y = spatialOut(n, x, kernel, false);
        y[1] = w[0];
        c.set(n, 0, c.typeIn(n, 0), y, null);
    }

    static void pool(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] kernel = n.attrInts("kernel_shape", null);
        if (kernel == null) {
            throw new AcdcException(n.opType() + " '" + n.label() + "' has no kernel_shape");
        }
        long[] y = spatialOut(n, x, kernel, n.attrInt("ceil_mode", 0) != 0);
        c.set(n, 0, c.typeIn(n, 0), y, null);
        if (n.outputs().size() > 1) {
            c.set(n, 1, DataType.INT64, y, null);
        }
    }

    static void convTranspose(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] w = c.shapeIn(n, 1);
        if (x.length != w.length || x.length < 3) {
            throw new AcdcException("ConvTranspose '" + n.label() + "': input rank " + x.length + " and weight rank "
                    + w.length + " do not match");
        }
        long group = n.attrInt("group", 1);
        if (x[1] >= 0 && x[1] != w[0]) {
            throw new AcdcException("ConvTranspose '" + n.label() + "': input has " + x[1]
                    + " channels but the weight [I, O/group, k...] expects " + w[0]);
        }
        ConvTransposeGeometry geo = ConvTransposeGeometry.of(n, Arrays.copyOfRange(x, 2, x.length),
                Arrays.copyOfRange(w, 2, w.length));
        long[] y = x.clone();
        y[1] = w[1] * group;
        System.arraycopy(geo.out(), 0, y, 2, geo.out().length);
        c.set(n, 0, c.typeIn(n, 0), y, null);
    }

    /** Output shape of a sliding-window op (Conv, pools), batch and channel copied from x. */
    static long[] spatialOut(Node n, long[] x, long[] kernel, boolean ceil) {
        int sd = x.length - 2;
        long[] strides = n.attrInts("strides", null);
        long[] dil = n.attrInts("dilations", null);
        long[] pads = n.attrInts("pads", null);
        String autoPad = n.attrString("auto_pad", "NOTSET");
        long[] y = x.clone();
        for (int i = 0; i < sd; i++) {
            long in = x[2 + i];
            long s = strides == null ? 1 : strides[i];
            long d = dil == null ? 1 : dil[i];
            long k = kernel[i];
            if (in < 0) {
                y[2 + i] = -1;
                continue;
            }
            long ext = d * (k - 1) + 1;
            long out;
            switch (autoPad) {
                case "SAME_UPPER", "SAME_LOWER" -> out = (in + s - 1) / s;
                case "VALID" -> out = (in - ext) / s + 1;
                default -> {
                    long p = pads == null ? 0 : pads[i] + pads[i + sd];
                    long num = in + p - ext;
                    out = (ceil ? Math.floorDiv(num + s - 1, s) : Math.floorDiv(num, s)) + 1;
                }
            }
            if (out <= 0) {
                throw new AcdcException(n.opType() + " '" + n.label() + "': spatial size " + in
                        + " is too small for kernel " + k + " (output would be " + out + ")");
            }
            y[2 + i] = out;
        }
        return y;
    }
}
