package dev.acdc.linalg;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Rank-m truncated SVD {@code M ≈ α·D} of a dense r×c matrix, in float64. {@code α = U_m Σ_m}
 * (r×m), {@code D = V_mᵀ} (m×c). By Eckart–Young this minimises ‖M − αD‖²_F, and the minimum is the
 * discarded singular energy {@code ‖M‖² − Σ_{i≤m} σ_i²}.
 *
 * <p>Method: form the Gram matrix of the smaller side (n = min(r, c); cost r·c·n/2 multiply-adds,
 * register-blocked and parallel) and take its top m eigenpairs. Up to n = {@value #DENSE_LIMIT} the
 * Gram matrix is fully eigen-decomposed; larger ones (ResNet-18 with {@code --share=net} gives
 * n = 2682) use Lanczos with full reorthogonalisation, run until every wanted Ritz pair's residual
 * is below 1e-11 of the largest eigenvalue, and fall back to the full decomposition if that does not
 * happen within {@value #MAX_LANCZOS} steps. Either way the result is the exact optimum to float64
 * precision — no randomised approximation.
 */
public final class LowRank {
    static final int DENSE_LIMIT = 256;
    static final int MAX_LANCZOS = 700;
    private static final double TOL = 1e-11;

    /** A fit: α (r×m, row-major), D (m×c, row-major), the top singular values and energies. */
    public record Fit(int rows, int cols, int rank, double[] alpha, double[] d, double[] sigma,
                      double totalEnergy, double capturedEnergy, String method) {

        public double discardedEnergy() {
            return Math.max(0, totalEnergy - capturedEnergy);
        }

        /** Captured fraction of ‖M‖² (1 for an all-zero matrix). */
        public double energyFraction() {
            return totalEnergy == 0 ? 1 : capturedEnergy / totalEnergy;
        }
    }

    private LowRank() {
    }

    public static Fit fit(double[] m, int r, int c, int rank) {
        if (m.length != (long) r * c) {
            throw new IllegalArgumentException("matrix has " + m.length + " values, not " + r + "x" + c);
        }
        int k = Math.min(rank, Math.min(r, c));
        double total = 0;
        for (double v : m) {
            total += v * v;
        }
        return exact(m, r, c, k, total);
    }

    // ------------------------------------------------------------------ exact route

    private static Fit exact(double[] m, int r, int c, int k, double total) {
        boolean colGram = c <= r; // eigen-decompose MᵀM (c×c), else MMᵀ (r×r)
        int n = colGram ? c : r;
        double[][] vecs = new double[k][];
        double[] sigma = new double[k];
        String method = null;
        if (n > DENSE_LIMIT && k > 0) {
            // Lanczos on the Gram matrix as an operator, v -> Mᵀ(M v): 2·r·c multiply-adds a step instead
            // of the r·c·n/2 that forming it costs; exact in float64 all the same
            // weights are float32, so M usually is exactly a float matrix: then it is streamed as floats
            // (half the memory traffic) with the same float64 arithmetic — the same numbers
            float[] mf = exactFloats(m);
            java.util.function.UnaryOperator<double[]> op = colGram
                    ? (mf != null ? v -> gramTimes(mf, r, c, v) : v -> timesTransposed(m, r, c, times(m, r, c, v)))
                    : v -> times(m, r, c, timesTransposed(m, r, c, v));
            int steps = Lanczos.top(op, n, k, TOL, MAX_LANCZOS, vecs, sigma);
            if (steps > 0) {
                method = "Gram matrix " + n + "x" + n + " as an operator, Lanczos (" + steps + " steps)";
            }
        }
        if (method == null) {
            double[][] g = colGram ? gramOfColumns(m, r, c) : gramOfRows(m, r, c);
            EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(g, false));
            double[] lambda = eig.getRealEigenvalues();
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(lambda[b], lambda[a]));
            for (int j = 0; j < k; j++) {
                vecs[j] = eig.getEigenvector(order[j]).toArray();
                sigma[j] = lambda[order[j]];
            }
            method = "Gram matrix " + n + "x" + n + ", full eigendecomposition";
        }
        for (int j = 0; j < k; j++) {
            sigma[j] = Math.sqrt(Math.max(0, sigma[j]));
        }
        double[] alpha = new double[r * k];
        double[] d = new double[k * c];
        if (colGram) {
            // V_m = vecs; α = M·V_m; D = V_mᵀ
            for (int j = 0; j < k; j++) {
                System.arraycopy(vecs[j], 0, d, j * c, c);
            }
            multiplyRight(m, r, c, d, k, alpha);
        } else {
            // U_m = vecs; α = U_m·Σ; D = Σ⁻¹·U_mᵀ·M
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < k; j++) {
                    alpha[i * k + j] = vecs[j][i] * sigma[j];
                }
            }
            for (int j = 0; j < k; j++) {
                if (sigma[j] == 0) {
                    continue;
                }
                double inv = 1 / sigma[j];
                double[] u = vecs[j];
                for (int i = 0; i < r; i++) {
                    double a = u[i] * inv;
                    if (a != 0) {
                        int off = i * c;
                        int doff = j * c;
                        for (int t = 0; t < c; t++) {
                            d[doff + t] += a * m[off + t];
                        }
                    }
                }
            }
        }
        double captured = 0;
        for (double s : sigma) {
            captured += s * s;
        }
        return new Fit(r, c, k, alpha, d, sigma, total, Math.min(captured, total), method);
    }

    /** M as floats when every entry is exactly a float, else null. */
    static float[] exactFloats(double[] m) {
        float[] f = new float[m.length];
        for (int i = 0; i < m.length; i++) {
            f[i] = (float) m[i];
            if (f[i] != m[i]) {
                return null;
            }
        }
        return f;
    }

    /**
     * MᵀM·v (c) without forming MᵀM, for M held as floats, arithmetic in float64: Σ_i (M_i·v)·M_i, each
     * row used twice while it is in cache, so M streams from memory once per product; rows split over
     * the cores, partial sums added.
     */
    static double[] gramTimes(float[] m, int r, int c, double[] v) {
        int parts = Math.max(1, Math.min(r, Runtime.getRuntime().availableProcessors()));
        double[][] partial = new double[parts][];
        IntStream.range(0, parts).parallel().forEach(p -> {
            double[] w = new double[c];
            int i0 = (int) ((long) r * p / parts);
            int i1 = (int) ((long) r * (p + 1) / parts);
            for (int i = i0; i < i1; i++) {
                int off = i * c;
                double s0 = 0;
                double s1 = 0;
                double s2 = 0;
                double s3 = 0;
                int t = 0;
                for (; t + 3 < c; t += 4) {
                    s0 += m[off + t] * v[t];
                    s1 += m[off + t + 1] * v[t + 1];
                    s2 += m[off + t + 2] * v[t + 2];
                    s3 += m[off + t + 3] * v[t + 3];
                }
                for (; t < c; t++) {
                    s0 += m[off + t] * v[t];
                }
                double s = (s0 + s1) + (s2 + s3);
                if (s != 0) {
                    for (int l = 0; l < c; l++) {
                        w[l] += s * m[off + l];
                    }
                }
            }
            partial[p] = w;
        });
        double[] w = partial[0];
        for (int p = 1; p < parts; p++) {
            for (int l = 0; l < c; l++) {
                w[l] += partial[p][l];
            }
        }
        return w;
    }

    /** M·v (r) for M r×c row-major, rows in parallel. */
    static double[] times(double[] m, int r, int c, double[] v) {
        double[] u = new double[r];
        IntStream.range(0, r).parallel().forEach(i -> {
            int off = i * c;
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            int t = 0;
            for (; t + 3 < c; t += 4) {
                s0 += m[off + t] * v[t];
                s1 += m[off + t + 1] * v[t + 1];
                s2 += m[off + t + 2] * v[t + 2];
                s3 += m[off + t + 3] * v[t + 3];
            }
            for (; t < c; t++) {
                s0 += m[off + t] * v[t];
            }
            u[i] = (s0 + s1) + (s2 + s3);
        });
        return u;
    }

    /** Mᵀ·u (c) for M r×c row-major, column blocks in parallel. */
    static double[] timesTransposed(double[] m, int r, int c, double[] u) {
        double[] w = new double[c];
        final int block = 256;
        IntStream.range(0, (c + block - 1) / block).parallel().forEach(b -> {
            int l0 = b * block;
            int l1 = Math.min(c, l0 + block);
            for (int i = 0; i < r; i++) {
                double a = u[i];
                if (a == 0) {
                    continue;
                }
                int off = i * c;
                for (int l = l0; l < l1; l++) {
                    w[l] += a * m[off + l];
                }
            }
        });
        return w;
    }

    /** α = M·Dᵀ for D (k×c row-major): α[i][j] = Σ_t M[i][t]·D[j][t]. */
    private static void multiplyRight(double[] m, int r, int c, double[] d, int k, double[] alpha) {
        IntStream.range(0, r).parallel().forEach(i -> {
            int off = i * c;
            for (int j = 0; j < k; j++) {
                double s = 0;
                int doff = j * c;
                for (int t = 0; t < c; t++) {
                    s += m[off + t] * d[doff + t];
                }
                alpha[i * k + j] = s;
            }
        });
    }

    /**
     * MᵀM (c×c), upper triangle by tiles of 32 output rows × 512 output columns, in parallel; within a
     * tile every row of M adds a rank-one update, four output rows per pass, so the tile (128 KB) stays
     * in cache while M streams past it once per tile.
     */
    static double[][] gramOfColumns(double[] m, int r, int c) {
        double[][] g = new double[c][c];
        final int tj = 32;
        final int tl = 512;
        List<int[]> tiles = new ArrayList<>();
        for (int j0 = 0; j0 < c; j0 += tj) {
            for (int l0 = j0 / tl * tl; l0 < c; l0 += tl) {
                tiles.add(new int[] {j0, l0});
            }
        }
        tiles.parallelStream().forEach(t -> {
            int j0 = t[0];
            int j1 = Math.min(c, j0 + tj);
            int l0 = Math.max(t[1], j0);
            int l1 = Math.min(c, t[1] + tl);
            for (int i = 0; i < r; i++) {
                int off = i * c;
                int j = j0;
                for (; j + 3 < j1; j += 4) {
                    double a0 = m[off + j];
                    double a1 = m[off + j + 1];
                    double a2 = m[off + j + 2];
                    double a3 = m[off + j + 3];
                    if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0) {
                        continue;
                    }
                    double[] g0 = g[j];
                    double[] g1 = g[j + 1];
                    double[] g2 = g[j + 2];
                    double[] g3 = g[j + 3];
                    for (int l = l0; l < l1; l++) {
                        double v = m[off + l];
                        g0[l] += a0 * v;
                        g1[l] += a1 * v;
                        g2[l] += a2 * v;
                        g3[l] += a3 * v;
                    }
                }
                for (; j < j1; j++) {
                    double a = m[off + j];
                    if (a == 0) {
                        continue;
                    }
                    double[] gj = g[j];
                    for (int l = Math.max(l0, j); l < l1; l++) {
                        gj[l] += a * m[off + l];
                    }
                }
            }
        });
        // the passes also filled some entries left of the diagonal; mirror the upper triangle over them
        for (int j = 0; j < c; j++) {
            for (int l = 0; l < j; l++) {
                g[j][l] = g[l][j];
            }
        }
        return g;
    }

    /** MMᵀ (r×r). */
    static double[][] gramOfRows(double[] m, int r, int c) {
        double[][] g = new double[r][r];
        IntStream.range(0, r).parallel().forEach(i -> {
            int oi = i * c;
            for (int j = i; j < r; j++) {
                int oj = j * c;
                double s = 0;
                for (int t = 0; t < c; t++) {
                    s += m[oi + t] * m[oj + t];
                }
                g[i][j] = s;
            }
        });
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < i; j++) {
                g[i][j] = g[j][i];
            }
        }
        return g;
    }
}
