package dev.acdc.decompose;

import dev.acdc.ir.Node;

/**
 * What the planner decided for one convolution: its shape, whether it is decomposed (else why not),
 * its block tiling {@code nbo × nbi} of {@code go × gi} blocks, and the sharing set it joins.
 */
public final class ConvPlan {
    final Node node;
    final long out;
    final long inPerGroup;
    final long kh;
    final long kw;
    final long group;
    final long[] outShape;
    final String reason;
    final String setId;
    final int go;
    final int gi;
    final int unit;
    /** 1 for a 1-D conv (kernel [O, I, kh], kw = 1), else 2. */
    final int spatialRank;

    /**
     * A decision: {@code reason} null means decomposed into {@code go × gi} blocks in set {@code setId}
     * of scope unit {@code unit}; otherwise the conv is kept dense and the block fields are unused.
     */
    ConvPlan(Node node, long out, long inPerGroup, long kh, long kw, long group, long[] outShape, String reason,
             String setId, int go, int gi, int unit) {
        this(node, out, inPerGroup, kh, kw, group, outShape, reason, setId, go, gi, unit, 2);
    }

    /** As above, for a conv of {@code spatialRank} spatial axes (1: a 1-D conv, its kernel taken as kh × 1). */
    ConvPlan(Node node, long out, long inPerGroup, long kh, long kw, long group, long[] outShape, String reason,
             String setId, int go, int gi, int unit, int spatialRank) {
        if (reason == null && (setId == null || go <= 0 || gi <= 0 || out % go != 0 || inPerGroup % gi != 0)) {
            throw new IllegalArgumentException("decomposed conv " + node.label() + " needs a set and a block tiling");
        }
        this.node = node;
        this.out = out;
        this.inPerGroup = inPerGroup;
        this.kh = kh;
        this.kw = kw;
        this.group = group;
        this.outShape = outShape.clone();
        this.reason = reason;
        this.setId = reason == null ? setId : null;
        this.go = go;
        this.gi = gi;
        this.unit = unit;
        this.spatialRank = spatialRank;
    }

    /** A 1-D convolution: its kernel is [O, I, kh] (atoms of kh taps). */
    public boolean oneD() {
        return spatialRank == 1;
    }

    public String name() {
        return node.label();
    }

    public Node node() {
        return node;
    }

    /** The weight's shape: [O, I/G, kh, kw], or [O, I/G, kh] for a 1-D conv. */
    public long[] kernel() {
        return oneD() ? new long[] {out, inPerGroup, kh} : new long[] {out, inPerGroup, kh, kw};
    }

    public String kernelString() {
        return out + "x" + inPerGroup + "x" + kh + (oneD() ? "" : "x" + kw);
    }

    public long group() {
        return group;
    }

    public boolean decomposed() {
        return reason == null;
    }

    /** Why it is kept dense, or null when decomposed. */
    public String reason() {
        return reason;
    }

    public String setId() {
        return setId;
    }

    public int blockRows() {
        return go;
    }

    public int blockCols() {
        return gi;
    }

    /** Blocks along the output channels. */
    public int nbo() {
        return (int) (out / go);
    }

    /** Blocks along the input channels (per group). */
    public int nbi() {
        return (int) (inPerGroup / gi);
    }

    public int blocks() {
        return decomposed() ? nbo() * nbi() : 0;
    }

    public long denseParams() {
        return out * inPerGroup * kh * kw;
    }

    public boolean spatial() {
        return kh * kw > 1;
    }

    /** Output spatial shape [C, H, W] (H, W may be -1 when unknown). */
    public long[] outShape() {
        return outShape.clone();
    }
}
