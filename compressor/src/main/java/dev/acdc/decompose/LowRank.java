package dev.acdc.decompose;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Rank-m truncated SVD {@code M ≈ α·D} of a dense r×c matrix, in float64. {@code α = U_m Σ_m}
 * (r×m), {@code D = V_mᵀ} (m×c). By Eckart–Young this minimises ‖M − αD‖²_F, and the minimum is the
 * discarded singular energy {@code ‖M‖² − Σ_{i≤m} σ_i²}.
 *
 * <p>Method by shape: when the smaller side n = min(r, c) is at most {@value #EXACT_LIMIT}, the
 * Gram matrix of that side is formed and fully eigen-decomposed (cost n²·max(r,c)). Larger matrices
 * (ResNet-18 with {@code --share=net} reaches 4096×2682) use block subspace iteration with
 * Rayleigh–Ritz on a block of m+10 vectors (cost 2·r·c·(m+10) per sweep), run until a sweep adds
 * less than 1e-9 of the discarded energy — then the error identity holds to far better than 1e-6.
 * If that has not happened after {@value #MAX_SWEEPS} sweeps (flat spectra, such as random weights),
 * matrices whose smaller side is at most {@value #FALLBACK_LIMIT} take the exact route; larger ones
 * keep the iterate and report {@link Fit#converged()} false with the last sweep's gain.
 */
public final class LowRank {
    static final int EXACT_LIMIT = 256;
    static final int FALLBACK_LIMIT = 640;
    static final int MAX_SWEEPS = 40;
    /** Converged when a sweep adds less than this fraction of the discarded energy. */
    private static final double TOL = 1e-9;

    /** A fit: α (r×m, row-major), D (m×c, row-major), the top singular values and energies. */
    public record Fit(int rows, int cols, int rank, double[] alpha, double[] d, double[] sigma,
                      double totalEnergy, double capturedEnergy, boolean exact, int sweeps, double lastGain) {
        /** Exact, or iterated until a sweep gained less than 1e-9 of the discarded energy. */
        public boolean converged() {
            return exact || lastGain <= TOL * Math.max(discardedEnergy(), Double.MIN_NORMAL);
        }

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
        int n = Math.min(r, c);
        if (n <= EXACT_LIMIT || k + 8 >= n / 2) {
            return exact(m, r, c, k, total);
        }
        Fit f = iterate(m, r, c, k, total);
        return f.converged() || n > FALLBACK_LIMIT ? f : exact(m, r, c, k, total);
    }

    // ------------------------------------------------------------------ exact route

    private static Fit exact(double[] m, int r, int c, int k, double total) {
        boolean colGram = c <= r; // eigen-decompose MᵀM (c×c), else MMᵀ (r×r)
        int n = colGram ? c : r;
        double[][] g = colGram ? gramOfColumns(m, r, c) : gramOfRows(m, r, c);
        EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(g, false));
        double[] lambda = eig.getRealEigenvalues();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(lambda[b], lambda[a]));
        double[][] vecs = new double[k][];
        double[] sigma = new double[k];
        for (int j = 0; j < k; j++) {
            vecs[j] = eig.getEigenvector(order[j]).toArray();
            sigma[j] = Math.sqrt(Math.max(0, lambda[order[j]]));
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
        return new Fit(r, c, k, alpha, d, sigma, total, Math.min(captured, total), true, 0, 0);
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

    /** MᵀM (c×c), blocked over output rows, in parallel. */
    static double[][] gramOfColumns(double[] m, int r, int c) {
        double[][] g = new double[c][c];
        final int tile = 32;
        IntStream.range(0, (c + tile - 1) / tile).parallel().forEach(tj -> {
            int j0 = tj * tile;
            int j1 = Math.min(c, j0 + tile);
            for (int i = 0; i < r; i++) {
                int off = i * c;
                for (int j = j0; j < j1; j++) {
                    double a = m[off + j];
                    if (a == 0) {
                        continue;
                    }
                    double[] gj = g[j];
                    for (int l = j; l < c; l++) {
                        gj[l] += a * m[off + l];
                    }
                }
            }
        });
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

    // ------------------------------------------------------------------ iterative route

    private static Fit iterate(double[] m, int r, int c, int k, double total) {
        int b = Math.min(k + 10, Math.min(r, c));
        Random rnd = new Random(0x5eedL);
        double[] z = new double[c * b];
        for (int i = 0; i < z.length; i++) {
            z[i] = rnd.nextGaussian();
        }
        double[] q = new double[r * b];
        double prev = -1;
        for (int sweep = 1; sweep <= MAX_SWEEPS; sweep++) {
            times(m, r, c, z, b, q);          // Q = M·Z
            orthonormalize(q, r, b, rnd);
            timesTransposed(m, r, c, q, b, z); // Z = Mᵀ·Q  (so M ≈ Q·Zᵀ)
            // Rayleigh–Ritz: eigen-decompose ZᵀZ (b×b)
            double[][] zz = new double[b][b];
            for (int t = 0; t < c; t++) {
                int off = t * b;
                for (int i = 0; i < b; i++) {
                    double a = z[off + i];
                    for (int j = i; j < b; j++) {
                        zz[i][j] += a * z[off + j];
                    }
                }
            }
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < i; j++) {
                    zz[i][j] = zz[j][i];
                }
            }
            EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(zz, false));
            double[] lambda = eig.getRealEigenvalues();
            Integer[] order = new Integer[b];
            for (int i = 0; i < b; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (x, y) -> Double.compare(lambda[y], lambda[x]));
            double captured = 0;
            for (int j = 0; j < k; j++) {
                captured += Math.max(0, lambda[order[j]]);
            }
            double gain = prev < 0 ? Double.MAX_VALUE : Math.abs(captured - prev);
            prev = captured;
            if (gain <= TOL * Math.max(total - captured, Double.MIN_NORMAL) || sweep == MAX_SWEEPS) {
                return ritz(q, z, r, c, b, k, eig, order, lambda, total, captured, sweep, gain);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private static Fit ritz(double[] q, double[] z, int r, int c, int b, int k, EigenDecomposition eig,
                            Integer[] order, double[] lambda, double total, double captured, int sweeps,
                            double gain) {
        RealMatrix w = eig.getV();
        double[] sigma = new double[k];
        double[] alpha = new double[r * k];
        double[] d = new double[k * c];
        for (int j = 0; j < k; j++) {
            int col = order[j];
            sigma[j] = Math.sqrt(Math.max(0, lambda[col]));
            double[] wj = w.getColumn(col);
            // α_j = Q·w_j·σ_j ;  D_j = Z·w_j / σ_j
            for (int i = 0; i < r; i++) {
                double s = 0;
                for (int l = 0; l < b; l++) {
                    s += q[i * b + l] * wj[l];
                }
                alpha[i * k + j] = s * sigma[j];
            }
            if (sigma[j] > 0) {
                for (int t = 0; t < c; t++) {
                    double s = 0;
                    for (int l = 0; l < b; l++) {
                        s += z[t * b + l] * wj[l];
                    }
                    d[j * c + t] = s / sigma[j];
                }
            }
        }
        return new Fit(r, c, k, alpha, d, sigma, total, Math.min(captured, total), false, sweeps, gain);
    }

    /** Y (r×b) = M (r×c) · X (c×b). */
    private static void times(double[] m, int r, int c, double[] x, int b, double[] y) {
        IntStream.range(0, r).parallel().forEach(i -> {
            int off = i * c;
            int yo = i * b;
            Arrays.fill(y, yo, yo + b, 0);
            for (int t = 0; t < c; t++) {
                double a = m[off + t];
                if (a == 0) {
                    continue;
                }
                int xo = t * b;
                for (int l = 0; l < b; l++) {
                    y[yo + l] += a * x[xo + l];
                }
            }
        });
    }

    /** Z (c×b) = Mᵀ · Q (r×b), accumulated per row chunk then summed. */
    private static void timesTransposed(double[] m, int r, int c, double[] q, int b, double[] z) {
        int chunks = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), r / 64));
        double[][] parts = new double[chunks][];
        IntStream.range(0, chunks).parallel().forEach(p -> {
            double[] acc = new double[c * b];
            int i0 = (int) ((long) r * p / chunks);
            int i1 = (int) ((long) r * (p + 1) / chunks);
            for (int i = i0; i < i1; i++) {
                int off = i * c;
                int qo = i * b;
                for (int t = 0; t < c; t++) {
                    double a = m[off + t];
                    if (a == 0) {
                        continue;
                    }
                    int zo = t * b;
                    for (int l = 0; l < b; l++) {
                        acc[zo + l] += a * q[qo + l];
                    }
                }
            }
            parts[p] = acc;
        });
        Arrays.fill(z, 0);
        for (double[] part : parts) {
            for (int i = 0; i < z.length; i++) {
                z[i] += part[i];
            }
        }
    }

    /** Orthonormalises the b columns of Q (r×b row-major) by modified Gram–Schmidt, twice. */
    static void orthonormalize(double[] q, int r, int b, Random rnd) {
        double[][] cols = new double[b][r];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < b; j++) {
                cols[j][i] = q[i * b + j];
            }
        }
        for (int j = 0; j < b; j++) {
            double before = norm(cols[j]);
            for (int pass = 0; pass < 2; pass++) {
                for (int l = 0; l < j; l++) {
                    double dot = 0;
                    for (int i = 0; i < r; i++) {
                        dot += cols[l][i] * cols[j][i];
                    }
                    for (int i = 0; i < r; i++) {
                        cols[j][i] -= dot * cols[l][i];
                    }
                }
            }
            double n = norm(cols[j]);
            if (n <= 1e-12 * Math.max(before, 1e-300)) {
                // rank deficient: continue with a random direction orthogonal to the others
                for (int i = 0; i < r; i++) {
                    cols[j][i] = rnd.nextGaussian();
                }
                j--;
                continue;
            }
            for (int i = 0; i < r; i++) {
                cols[j][i] /= n;
            }
        }
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < b; j++) {
                q[i * b + j] = cols[j][i];
            }
        }
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
