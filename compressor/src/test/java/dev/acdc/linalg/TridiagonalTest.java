package dev.acdc.linalg;

import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The top eigenpairs of a symmetric tridiagonal against commons-math's full eigendecomposition. */
class TridiagonalTest {
    /** Checks values against the full decomposition, and T v = λ v, ‖v‖ = 1 and orthogonality directly. */
    private static void check(double[] a, double[] b, int n, int k) {
        Tridiagonal.Top top = Tridiagonal.top(a, b, n, k);
        double[] all = new EigenDecomposition(a.clone(), Arrays.copyOf(b, n - 1)).getRealEigenvalues();
        double[] sorted = all.clone();
        Arrays.sort(sorted);
        double norm = Math.max(Math.abs(sorted[0]), Math.abs(sorted[n - 1]));
        for (int i = 0; i < k; i++) {
            assertEquals(sorted[n - 1 - i], top.values()[i], 1e-12 * norm, "eigenvalue " + i);
            double[] v = top.vectors()[i];
            for (int r = 0; r < n; r++) {
                double tv = a[r] * v[r] + (r > 0 ? b[r - 1] * v[r - 1] : 0) + (r < n - 1 ? b[r] * v[r + 1] : 0);
                assertEquals(top.values()[i] * v[r], tv, 1e-9 * norm, "T v = λ v, vector " + i + " row " + r);
            }
            for (int j = 0; j <= i; j++) {
                double d = 0;
                for (int r = 0; r < n; r++) {
                    d += v[r] * top.vectors()[j][r];
                }
                assertEquals(i == j ? 1 : 0, d, 1e-9, "vectors " + i + ", " + j);
            }
        }
    }

    @Test
    void randomTridiagonalsOfLanczosSizes() {
        Random rnd = new Random(3);
        for (int n : new int[] {1, 2, 3, 17, 120, 400}) {
            double[] a = new double[n];
            double[] b = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = rnd.nextGaussian() * 10;
                b[i] = rnd.nextGaussian();
            }
            check(a, b, n, Math.min(n, 12));
        }
    }

    @Test
    void repeatedAndClusteredEigenvaluesGetOrthogonalVectors() {
        // a zero off-diagonal splits T: the same eigenvalue twice, and a cluster 1e-10 apart
        int n = 8;
        double[] a = {5, 5, 3, 2, 5 + 1e-10, 1, 0, -4};
        double[] b = new double[n];
        check(a, b, n, 5);
        // Wilkinson's W21+: pairs of eigenvalues agreeing to many digits
        int m = 21;
        double[] w = new double[m];
        double[] e = new double[m];
        for (int i = 0; i < m; i++) {
            w[i] = Math.abs(10 - i);
            e[i] = 1;
        }
        check(w, e, m, 8);
    }

    @Test
    void theSturmCountMatchesTheSpectrum() {
        double[] a = {2, -1, 4, 0.5};
        double[] b = {1, 0.3, -2, 0};
        double[] ev = new EigenDecomposition(a.clone(), Arrays.copyOf(b, 3)).getRealEigenvalues();
        for (double x = -6; x <= 6; x += 0.37) {
            final double at = x;
            long expected = Arrays.stream(ev).filter(v -> v < at).count();
            assertEquals(expected, Tridiagonal.below(a, b, 4, x, Double.MIN_NORMAL), "x = " + x);
        }
        assertTrue(Tridiagonal.top(a, b, 4, 1).values()[0] > 4);
    }
}
