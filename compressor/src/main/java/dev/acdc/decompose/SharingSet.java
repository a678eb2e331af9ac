package dev.acdc.decompose;

import java.util.List;

/**
 * All blocks of one scope unit with equal {@code (go, gi, kh, kw)}: they share one coefficient
 * tensor α ∈ R^{go×gi×m}; each block owns its atoms D ∈ R^{m×kh×kw}.
 */
public final class SharingSet {
    final String id;
    final int go;
    final int gi;
    final int kh;
    final int kw;
    final List<ConvPlan> members;
    final int atoms;

    SharingSet(String id, int go, int gi, int kh, int kw, List<ConvPlan> members, int atoms) {
        for (ConvPlan c : members) {
            if (!id.equals(c.setId) || c.go != go || c.gi != gi || c.kh != kh || c.kw != kw) {
                throw new IllegalArgumentException("conv " + c.name() + " does not belong to set " + id);
            }
        }
        this.id = id;
        this.go = go;
        this.gi = gi;
        this.kh = kh;
        this.kw = kw;
        this.members = List.copyOf(members);
        this.atoms = atoms;
    }

    public String id() {
        return id;
    }

    public List<ConvPlan> members() {
        return members;
    }

    /**
     * Whether this is a pointwise set: 1×1 kernels tiled one output channel by the whole input width, so that
     * each member's kernel is its atoms' transpose times α's transpose, a rank-m factorization whose input side
     * (α, [I, m]) the members share.
     */
    public boolean pointwise() {
        return kh * kw == 1 && go == 1;
    }

    /** S: the number of blocks in the set. */
    public int blocks() {
        int s = 0;
        for (ConvPlan c : members) {
            s += c.blocks();
        }
        return s;
    }

    public int[] shape() {
        return new int[] {go, gi, kh, kw};
    }

    public String shapeString() {
        return go + "x" + gi + "x" + kh + "x" + kw;
    }

    /** m, after capping by the set's rank min(go·gi, S·kh·kw). */
    public int atoms() {
        return atoms;
    }

    /** The most atoms the set can use: its rank bound min(go·gi, S·kh·kw). */
    public int maxAtoms() {
        return Math.min(go * gi, blocks() * kh * kw);
    }

    /** Dense parameters of the members: Σ O·(I/G)·kh·kw. */
    public long denseParams() {
        long p = 0;
        for (ConvPlan c : members) {
            p += c.denseParams();
        }
        return p;
    }

    /** ACDC parameters: go·gi·m + S·m·kh·kw. */
    public long acdcParams() {
        return (long) go * gi * atoms + (long) blocks() * atoms * kh * kw;
    }
}
