package dev.acdc.linalg;

import java.util.stream.IntStream;

/**
 * Dense products in float64 for the normal equations of the fits, tiled so that a tile of the right-hand
 * matrix stays in cache while a block of rows uses it, blocks of rows split over the cores. The inner loop is
 * a contiguous multiply-add (c_row += a·b_row), which the JIT vectorises; a dot-product loop would not be.
 */
public final class Gemm {
    /** Rows of A per task, rows of B per tile, columns per tile: a 64 KB block of C against a 512 KB tile of B. */
    static final int ROWS = 16;
    static final int DEPTH = 128;
    static final int COLS = 512;

    private Gemm() {
    }

    /** A·B for A r×k and B k×c, row-major. */
    public static double[] multiply(double[] a, int r, int k, double[] b, int c) {
        double[] out = new double[r * c];
        IntStream.range(0, (r + ROWS - 1) / ROWS).parallel().forEach(blk -> {
            int i0 = blk * ROWS;
            int i1 = Math.min(r, i0 + ROWS);
            for (int p0 = 0; p0 < k; p0 += DEPTH) {
                int p1 = Math.min(k, p0 + DEPTH);
                for (int j0 = 0; j0 < c; j0 += COLS) {
                    int len = Math.min(c, j0 + COLS) - j0;
                    for (int i = i0; i < i1; i++) {
                        int ao = i * k;
                        int co = i * c + j0;
                        for (int p = p0; p < p1; p++) {
                            double v = a[ao + p];
                            if (v != 0) {
                                axpy(v, b, p * c + j0, out, co, len);
                            }
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * The quadratic forms w_oᵀ·A·w_o of every row w_o of W (r×k, row-major) for A k×k: one blocked product
     * W·A, then a row-wise dot.
     */
    public static double[] quadraticForms(double[] w, int r, int k, double[] a) {
        double[] wa = multiply(w, r, k, a, k);
        double[] q = new double[r];
        IntStream.range(0, r).parallel().forEach(o -> {
            double s = 0;
            int off = o * k;
            for (int j = 0; j < k; j++) {
                s += wa[off + j] * w[off + j];
            }
            q[o] = s;
        });
        return q;
    }

    /** y[yo ..] += v · x[xo ..] over {@code len} entries. */
    public static void axpy(double v, double[] x, int xo, double[] y, int yo, int len) {
        for (int t = 0; t < len; t++) {
            y[yo + t] += v * x[xo + t];
        }
    }
}
