package dev.acdc.linalg;


import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Top eigenpairs of a dense symmetric positive semi-definite matrix by Lanczos with full
 * reorthogonalisation (two Gram–Schmidt passes per step). Ritz pairs are accepted when their residual
 * ‖G·y − θ·y‖ = |β_j·s_{j,i}| is below {@code tol} times the largest Ritz value; an invariant subspace
 * (β ≈ 0) restarts from a random vector orthogonal to the basis, so rank-deficient matrices are fine.
 */
final class Lanczos {
    private Lanczos() {
    }

    /**
     * Fills {@code vecs[0..k)} and {@code values[0..k)} with the top k eigenpairs of g (n×n, symmetric);
     * returns the steps taken, or 0 if not converged within {@code maxSteps} (callers then decompose
     * fully).
     */
    static int top(double[][] g, int n, int k, double tol, int maxSteps, double[][] vecs, double[] values) {
        return top(v -> times(g, v, n), n, k, tol, maxSteps, vecs, values);
    }

    /** As {@link #top(double[][], int, int, double, int, double[][], double[])} with G given by its product {@code g}. */
    static int top(java.util.function.UnaryOperator<double[]> g, int n, int k, double tol, int maxSteps,
                   double[][] vecs, double[] values) {
        int limit = Math.min(n, maxSteps);
        List<double[]> q = new ArrayList<>();
        double[] alpha = new double[limit];
        double[] beta = new double[limit];
        Random rnd = new Random(0x1a2c05L);
        double[] v = randomUnit(n, rnd, q);
        double scale = 0;
        // convergence is checked at k steps, then every 8 steps or a fifth more, whichever is later: each check
        // is a full eigendecomposition of the tridiagonal (cubic in its size), so checking every 8 steps of a
        // 600-step run cost more than the run (ResNet-50's 1x1 sets: 63 % of the SVD fit's time)
        int nextCheck = k;
        for (int j = 0; j < limit; j++) {
            q.add(v);
            double[] w = g.apply(v);
            alpha[j] = dot(w, v);
            // full reorthogonalisation against the whole basis, twice
            for (int pass = 0; pass < 2; pass++) {
                for (double[] qi : q) {
                    double h = dot(w, qi);
                    axpy(-h, qi, w);
                }
            }
            beta[j] = Math.sqrt(dot(w, w));
            scale = Math.max(scale, Math.abs(alpha[j]) + beta[j]);
            boolean breakdown = beta[j] <= 1e-13 * Math.max(scale, Double.MIN_NORMAL);
            int size = j + 1;
            if (size >= k && (size >= nextCheck || breakdown || size == limit)) {
                if (accept(q, alpha, beta, size, k, tol, breakdown, n, vecs, values)) {
                    return size;
                }
                nextCheck = Math.max(size + 8, size + size / 5);
            }
            if (size == n) {
                break;
            }
            if (breakdown) {
                beta[j] = 0;
                v = randomUnit(n, rnd, q);
            } else {
                double inv = 1 / beta[j];
                for (int i = 0; i < n; i++) {
                    w[i] *= inv;
                }
                v = w;
            }
        }
        return 0;
    }

    private static boolean accept(List<double[]> q, double[] alpha, double[] beta, int size, int k, double tol,
                                  boolean breakdown, int n, double[][] vecs, double[] values) {
        Tridiagonal.Top e = Tridiagonal.top(alpha, beta, size, k);
        double top = Math.max(Math.abs(e.values()[0]), Double.MIN_NORMAL);
        double lastBeta = breakdown || size == n ? 0 : beta[size - 1];
        double[][] s = e.vectors();
        for (int i = 0; i < k; i++) {
            double residual = Math.abs(lastBeta * s[i][size - 1]);
            if (residual > tol * top) {
                return false;
            }
        }
        for (int i = 0; i < k; i++) {
            double[] y = new double[n];
            for (int j = 0; j < size; j++) {
                axpy(s[i][j], q.get(j), y);
            }
            double norm = Math.sqrt(dot(y, y));
            for (int t = 0; t < n; t++) {
                y[t] /= norm;
            }
            vecs[i] = y;
            values[i] = e.values()[i];
        }
        return true;
    }

    private static double[] randomUnit(int n, Random rnd, List<double[]> q) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextGaussian();
        }
        for (int pass = 0; pass < 2; pass++) {
            for (double[] qi : q) {
                axpy(-dot(v, qi), qi, v);
            }
        }
        double norm = Math.sqrt(dot(v, v));
        for (int i = 0; i < n; i++) {
            v[i] /= norm;
        }
        return v;
    }

    private static double[] times(double[][] g, double[] v, int n) {
        double[] w = new double[n];
        IntStream.range(0, n).parallel().forEach(i -> w[i] = dot(g[i], v));
        return w;
    }

    static double dot(double[] a, double[] b) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int n = a.length;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < y.length; i++) {
            y[i] += a * x[i];
        }
    }
}
