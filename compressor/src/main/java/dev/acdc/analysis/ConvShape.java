package dev.acdc.analysis;

import dev.acdc.ir.Node;

/**
 * One convolution of a graph as it stands: kernel {@code out × inPerGroup × kh × kw} (a 1-D kernel has
 * {@code kw = 1}), group, strides, and output shape {@code [C, H, W]} (H, W are -1 when unknown).
 * {@code spatialRank} is the kernel's number of spatial axes: 2 for a 2-D conv, 1 for a 1-D one (speech, time
 * series), 3 for 3-D, 0 when the weight's shape is unknown.
 * For a ConvTranspose ({@link #transposed}) the kernel is {@code [I, O/group, kh, kw]}: {@code out} is its
 * first axis (the input channels) and {@code inPerGroup} its second (output channels per group).
 */
public record ConvShape(Node node, long out, long inPerGroup, long kh, long kw, long group, long[] strides,
                        long[] outShape, int spatialRank) {

    /** A 2-D convolution (4-D weight). */
    public boolean twoD() {
        return spatialRank == 2;
    }

    /** A 1-D convolution (3-D weight [O, I, k], taken as k × 1). */
    public boolean oneD() {
        return spatialRank == 1;
    }

    /** A kernel ACDC factors: 2-D, or 1-D with 1-D atoms. */
    public boolean factorable() {
        return spatialRank == 1 || spatialRank == 2;
    }

    public String name() {
        return node.label();
    }

    /** A ConvTranspose, whose kernel's first axis is its input channels. */
    public boolean transposed() {
        return node.is("ConvTranspose");
    }

    /** What the kernel's first axis counts: "output channels", or a ConvTranspose's "input channels". */
    public String rowsName() {
        return transposed() ? "input channels" : "output channels";
    }

    /** What the kernel's second axis counts. */
    public String columnsName() {
        return transposed() ? "output channels" : "input channels";
    }

    /** A kernel larger than 1×1: one ACDC can factor into atoms. */
    public boolean spatial() {
        return kh * kw > 1;
    }

    /** Several channels per group would share nothing: one input channel per group. */
    public boolean depthwise() {
        return inPerGroup == 1 && group > 1;
    }

    /** "spatial", "1x1", "depthwise" (one input channel per group, spatial), "grouped" or "transposed". */
    public String kind() {
        if (!spatial()) {
            return "1x1";
        }
        if (transposed()) {
            return depthwise() ? "transposed depthwise" : "transposed";
        }
        if (depthwise()) {
            return "depthwise";
        }
        return group > 1 ? "grouped" : "spatial";
    }

    public String kernelString() {
        return out + "x" + inPerGroup + "x" + kh + (oneD() ? "" : "x" + kw);
    }
}
