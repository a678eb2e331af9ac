package dev.acdc.linalg;

import java.util.Random;

/**
 * The top eigenpairs of a symmetric tridiagonal matrix (main diagonal a, off-diagonal b): eigenvalues by
 * bisection on Sturm counts, eigenvectors by inverse iteration, re-orthogonalised within clusters of close
 * eigenvalues (LAPACK's dstebz + dstein, in brief).
 * <p>
 * Lanczos needs only the top k of a tridiagonal of a few hundred rows, at every convergence check: a full
 * eigendecomposition (cubic in the size) was 30 % of ResNet-50's SVD fit; this is O(k·n) a check.
 */
final class Tridiagonal {
    private Tridiagonal() {
    }

    /** Eigenvalues (descending) and unit eigenvectors {@code vectors[i]} (length n) of the top k. */
    record Top(double[] values, double[][] vectors) {
    }

    static Top top(double[] a, double[] b, int n, int k) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double r = (i > 0 ? Math.abs(b[i - 1]) : 0) + (i < n - 1 ? Math.abs(b[i]) : 0);
            lo = Math.min(lo, a[i] - r);
            hi = Math.max(hi, a[i] + r);
        }
        double norm = Math.max(Math.abs(lo), Math.abs(hi));
        double pivmin = Double.MIN_NORMAL * Math.max(1, norm * norm);
        double[] values = new double[k];
        for (int j = 0; j < k; j++) {
            values[j] = eigenvalue(a, b, n, n - 1 - j, lo, hi, pivmin);
        }
        double[][] vectors = new double[k][];
        Random rnd = new Random(0x7d1a6L);
        double cluster = 1e-3 * Math.max(norm, Double.MIN_NORMAL);
        for (int j = 0; j < k; j++) {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextDouble() - 0.5;
            }
            // a slightly perturbed shift keeps the system solvable where the eigenvalue is exact
            double shift = values[j] + 4 * Math.ulp(Math.max(norm, Double.MIN_NORMAL));
            for (int it = 0; it < 3; it++) {
                x = solve(a, b, n, shift, x, pivmin);
                for (int p = j - 1; p >= 0 && values[p] - values[j] <= cluster; p--) {
                    Lanczos.axpy(-Lanczos.dot(x, vectors[p]), vectors[p], x);
                }
                normalise(x);
            }
            vectors[j] = x;
        }
        return new Top(values, vectors);
    }

    /** How many eigenvalues are below x (Sturm count of the LDLᵀ factorisation of T − xI). */
    static int below(double[] a, double[] b, int n, double x, double pivmin) {
        int count = 0;
        double d = a[0] - x;
        if (Math.abs(d) < pivmin) {
            d = -pivmin;
        }
        if (d < 0) {
            count++;
        }
        for (int i = 1; i < n; i++) {
            d = a[i] - x - b[i - 1] * b[i - 1] / d;
            if (Math.abs(d) < pivmin) {
                d = -pivmin;
            }
            if (d < 0) {
                count++;
            }
        }
        return count;
    }

    /** The eigenvalue of ascending index {@code idx}, by bisection to machine precision. */
    private static double eigenvalue(double[] a, double[] b, int n, int idx, double lo, double hi, double pivmin) {
        double l = lo - 1e-12 * Math.abs(lo) - pivmin;
        double h = hi + 1e-12 * Math.abs(hi) + pivmin;
        for (int it = 0; it < 200; it++) {
            double mid = 0.5 * (l + h);
            if (mid <= l || mid >= h || h - l <= 2 * Math.ulp(Math.max(Math.abs(l), Math.abs(h))) + pivmin) {
                break;
            }
            if (below(a, b, n, mid, pivmin) > idx) {
                h = mid;
            } else {
                l = mid;
            }
        }
        return 0.5 * (l + h);
    }

    /** (T − shift·I)⁻¹ r by Gaussian elimination with partial pivoting (a tridiagonal system: O(n)). */
    private static double[] solve(double[] a, double[] b, int n, double shift, double[] r, double pivmin) {
        double[] x = r.clone();
        if (n == 1) {
            double d = a[0] - shift;
            x[0] /= Math.abs(d) < pivmin ? pivmin : d;
            return x;
        }
        // rows i: [sub, diag, sup, sup2] after pivoting (sup2 appears when rows swap)
        double[] diag = new double[n];
        double[] sup = new double[n];
        double[] sup2 = new double[n];
        double[] sub = new double[n];
        for (int i = 0; i < n; i++) {
            diag[i] = a[i] - shift;
            sup[i] = i < n - 1 ? b[i] : 0;
            sub[i] = i > 0 ? b[i - 1] : 0;
        }
        for (int i = 0; i < n - 1; i++) {
            double below = sub[i + 1];
            if (Math.abs(diag[i]) >= Math.abs(below)) {
                double piv = Math.abs(diag[i]) < pivmin ? pivmin : diag[i];
                diag[i] = piv;
                double m = below / piv;
                diag[i + 1] -= m * sup[i];
                sup[i + 1] -= m * sup2[i];
                x[i + 1] -= m * x[i];
            } else {
                // swap rows i and i+1
                double m = diag[i] / below;
                double di = diag[i + 1];
                double si = sup[i + 1];
                diag[i] = below;
                double oldSup = sup[i];
                sup[i] = di;
                sup2[i] = si;
                diag[i + 1] = oldSup - m * di;
                sup[i + 1] = -m * si;
                double xi = x[i];
                x[i] = x[i + 1];
                x[i + 1] = xi - m * x[i + 1];
            }
        }
        if (Math.abs(diag[n - 1]) < pivmin) {
            diag[n - 1] = pivmin;
        }
        x[n - 1] /= diag[n - 1];
        x[n - 2] = (x[n - 2] - sup[n - 2] * x[n - 1]) / diag[n - 2];
        for (int i = n - 3; i >= 0; i--) {
            x[i] = (x[i] - sup[i] * x[i + 1] - sup2[i] * x[i + 2]) / diag[i];
        }
        // keep the iterate finite: the solve of a nearly singular system is large by design
        double max = 0;
        for (double v : x) {
            max = Math.max(max, Math.abs(v));
        }
        if (max > 0 && Double.isFinite(max)) {
            for (int i = 0; i < n; i++) {
                x[i] /= max;
            }
        }
        return x;
    }

    private static void normalise(double[] x) {
        double s = Math.sqrt(Lanczos.dot(x, x));
        if (s > 0) {
            for (int i = 0; i < x.length; i++) {
                x[i] /= s;
            }
        }
    }
}
