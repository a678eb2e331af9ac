package dev.acdc.linalg;

/** Solves symmetric positive semi-definite systems A·x = b by Cholesky, with a relative ridge. */
public final class Cholesky {
    private Cholesky() {
    }

    /**
     * Solves (A + λI)·x_r = b_r for each of {@code nrhs} right-hand sides (rows of {@code b}, each of
     * length n); λ = {@code ridge} × the mean diagonal of A, raised tenfold until the factorisation
     * succeeds. A (n×n row-major) is not modified. Returns the solutions as rows.
     */
    public static double[] solve(double[] a, int n, double[] b, int nrhs, double ridge) {
        return solveWithRidge(a, n, b, nrhs, ridge).x();
    }

    /** The solutions and the λ they were solved with. */
    public record Solution(double[] x, double lambda) {
    }

    /** As {@link #solve}, also giving λ. */
    public static Solution solveWithRidge(double[] a, int n, double[] b, int nrhs, double ridge) {
        double trace = 0;
        for (int i = 0; i < n; i++) {
            trace += a[i * n + i];
        }
        double scale = trace > 0 ? trace / n : 1;
        double lambda = ridge * scale;
        for (int attempt = 0; attempt < 12; attempt++, lambda *= 10) {
            double[] l = factor(a, n, lambda);
            if (l != null) {
                double[] x = new double[nrhs * n];
                double[] y = new double[n];
                for (int r = 0; r < nrhs; r++) {
                    for (int i = 0; i < n; i++) {
                        double s = b[r * n + i];
                        int li = i * n;
                        for (int j = 0; j < i; j++) {
                            s -= l[li + j] * y[j];
                        }
                        y[i] = s / l[li + i];
                    }
                    for (int i = n - 1; i >= 0; i--) {
                        double s = y[i];
                        for (int j = i + 1; j < n; j++) {
                            s -= l[j * n + i] * x[r * n + j];
                        }
                        x[r * n + i] = s / l[i * n + i];
                    }
                }
                return new Solution(x, lambda);
            }
        }
        throw new IllegalStateException("normal equations of size " + n + " are not positive definite");
    }

    /** L (n×n row-major, lower triangular) with L·Lᵀ = A + λI. */
    public record Factor(double[] l, int n, double lambda) {
        /** L⁻¹·B in place for B n×k row-major (forward substitution down each column). */
        public void solveLower(double[] b, int k) {
            for (int i = 0; i < n; i++) {
                int li = i * n;
                for (int j = 0; j < i; j++) {
                    double lij = l[li + j];
                    if (lij != 0) {
                        for (int c = 0; c < k; c++) {
                            b[i * k + c] -= lij * b[j * k + c];
                        }
                    }
                }
                double inv = 1 / l[li + i];
                for (int c = 0; c < k; c++) {
                    b[i * k + c] *= inv;
                }
            }
        }

        /** L⁻ᵀ·B in place for B n×k row-major (back substitution up each column). */
        public void solveUpper(double[] b, int k) {
            for (int i = n - 1; i >= 0; i--) {
                for (int j = i + 1; j < n; j++) {
                    double lji = l[j * n + i];
                    if (lji != 0) {
                        for (int c = 0; c < k; c++) {
                            b[i * k + c] -= lji * b[j * k + c];
                        }
                    }
                }
                double inv = 1 / l[i * n + i];
                for (int c = 0; c < k; c++) {
                    b[i * k + c] *= inv;
                }
            }
        }
    }

    /** The factor of A + λI, λ as in {@link #solve} (raised tenfold until the factorisation succeeds). */
    public static Factor factorWithRidge(double[] a, int n, double ridge) {
        double trace = 0;
        for (int i = 0; i < n; i++) {
            trace += a[i * n + i];
        }
        double lambda = ridge * (trace > 0 ? trace / n : 1);
        for (int attempt = 0; attempt < 12; attempt++, lambda *= 10) {
            double[] l = factor(a, n, lambda);
            if (l != null) {
                return new Factor(l, n, lambda);
            }
        }
        throw new IllegalStateException("a matrix of size " + n + " is not positive definite");
    }

    /** Lower-triangular L with L·Lᵀ = A + λI, or null when a pivot is not positive. */
    private static double[] factor(double[] a, int n, double lambda) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            int li = i * n;
            for (int j = 0; j <= i; j++) {
                int lj = j * n;
                double s = a[li + j] + (i == j ? lambda : 0);
                for (int k = 0; k < j; k++) {
                    s -= l[li + k] * l[lj + k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        return null;
                    }
                    l[li + i] = Math.sqrt(s);
                } else {
                    l[li + j] = s / l[lj + j];
                }
            }
        }
        return l;
    }
}
