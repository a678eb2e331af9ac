package dev.acdc.decompose;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The truncated SVD against an independent oracle: commons-math's full SVD. */
class LowRankTest {

    /** r×c with singular values decaying like {@code decay^i} (1 = flat, random). */
    static double[] matrix(int r, int c, double decay, long seed) {
        Random rnd = new Random(seed);
        double[] m = new double[r * c];
        int n = Math.min(r, c);
        // sum of rank-one terms with random directions and decaying weights
        for (int k = 0; k < n; k++) {
            double w = Math.pow(decay, k);
            double[] u = new double[r];
            double[] v = new double[c];
            for (int i = 0; i < r; i++) {
                u[i] = rnd.nextGaussian();
            }
            for (int j = 0; j < c; j++) {
                v[j] = rnd.nextGaussian();
            }
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < c; j++) {
                    m[i * c + j] += w * u[i] * v[j];
                }
            }
        }
        return m;
    }

    static double residual(double[] m, int r, int c, LowRank.Fit f) {
        double e = 0;
        int k = f.rank();
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                double v = 0;
                for (int l = 0; l < k; l++) {
                    v += f.alpha()[i * k + l] * f.d()[l * c + j];
                }
                double d = m[i * c + j] - v;
                e += d * d;
            }
        }
        return e;
    }

    static double discardedByOracle(double[] m, int r, int c, int k) {
        double[][] a = new double[r][c];
        for (int i = 0; i < r; i++) {
            System.arraycopy(m, i * c, a[i], 0, c);
        }
        double[] s = new SingularValueDecomposition(new Array2DRowRealMatrix(a, false)).getSingularValues();
        double d = 0;
        for (int i = k; i < s.length; i++) {
            d += s[i] * s[i];
        }
        return d;
    }

    private static void check(int r, int c, int k, double decay, boolean expectExact) {
        double[] m = matrix(r, c, decay, r * 31L + c);
        LowRank.Fit f = LowRank.fit(m, r, c, k);
        assertEquals(expectExact, f.exact(), "route for " + r + "x" + c);
        double oracle = discardedByOracle(m, r, c, k);
        double err = residual(m, r, c, f);
        // Eckart–Young: the error is the discarded singular energy
        assertEquals(oracle, err, 1e-6 * oracle + 1e-9, r + "x" + c + " rank " + k);
        assertEquals(oracle, f.discardedEnergy(), 1e-6 * oracle + 1e-9);
        assertTrue(f.converged());
    }

    @Test
    void exactRouteTallAndWide() {
        check(256, 36, 6, 0.8, true);
        check(48, 200, 6, 0.9, true);
        check(100, 100, 9, 1.0, true);
    }

    @Test
    void iterativeRouteWithDecayingSpectrum() {
        check(400, 300, 6, 0.85, false);
    }

    @Test
    void iterativeRouteFallsBackToExactWhenTheSpectrumIsFlat() {
        // random Gaussian: no gap to speak of; the fit must still be optimal
        double[] m = new double[300 * 280];
        Random rnd = new Random(5);
        for (int i = 0; i < m.length; i++) {
            m[i] = rnd.nextGaussian();
        }
        LowRank.Fit f = LowRank.fit(m, 300, 280, 6);
        double oracle = discardedByOracle(m, 300, 280, 6);
        assertEquals(oracle, residual(m, 300, 280, f), 1e-6 * oracle);
    }

    @Test
    void fullRankReproducesTheMatrix() {
        double[] m = matrix(16, 27, 0.7, 3);
        LowRank.Fit f = LowRank.fit(m, 16, 27, 27);
        assertEquals(16, f.rank(), "rank is capped by min(r, c)");
        assertEquals(0, residual(m, 16, 27, f), 1e-18 * f.totalEnergy() + 1e-20);
    }

    @Test
    void zeroMatrix() {
        LowRank.Fit f = LowRank.fit(new double[20 * 9], 20, 9, 6);
        assertEquals(0, f.totalEnergy());
        assertEquals(1.0, f.energyFraction());
    }
}
