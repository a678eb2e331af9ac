package dev.acdc.linalg;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The truncated SVD against an independent oracle: commons-math's full SVD. */
public class LowRankTest {

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

    public static double discardedByOracle(double[] m, int r, int c, int k) {
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

    private static void check(int r, int c, int k, double decay, String route) {
        double[] m = matrix(r, c, decay, r * 31L + c);
        LowRank.Fit f = LowRank.fit(m, r, c, k);
        assertTrue(f.method().contains(route), f.method());
        double oracle = discardedByOracle(m, r, c, k);
        double err = residual(m, r, c, f);
        // Eckart–Young: the error is the discarded singular energy
        assertEquals(oracle, err, 1e-6 * oracle + 1e-9, r + "x" + c + " rank " + k);
        assertEquals(oracle, f.discardedEnergy(), 1e-6 * oracle + 1e-9);
    }

    @Test
    void exactRouteTallAndWide() {
        check(256, 36, 6, 0.8, "full eigendecomposition");
        check(48, 200, 6, 0.9, "full eigendecomposition");
        check(100, 100, 9, 1.0, "full eigendecomposition");
    }

    @Test
    void lanczosRouteWithDecayingSpectrum() {
        check(400, 300, 6, 0.85, "Lanczos");
        check(300, 420, 6, 0.95, "Lanczos");
    }

    @Test
    void lanczosRouteOnAFlatSpectrum() {
        // random Gaussian: no gap to speak of; the fit must still be optimal
        double[] m = new double[300 * 280];
        Random rnd = new Random(5);
        for (int i = 0; i < m.length; i++) {
            m[i] = rnd.nextGaussian();
        }
        LowRank.Fit f = LowRank.fit(m, 300, 280, 6);
        assertTrue(f.method().contains("Lanczos"), f.method());
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
    void rankDeficientLargeMatrix() {
        // rank 3 < 6 atoms, on the Lanczos route: breakdown restarts, the error is zero
        double[] m = matrix(300, 270, 0.0001, 8);
        double[] low = new double[300 * 270];
        java.util.Random rnd = new java.util.Random(2);
        for (int k = 0; k < 3; k++) {
            double[] u = new double[300];
            double[] v = new double[270];
            for (int i = 0; i < 300; i++) {
                u[i] = rnd.nextGaussian();
            }
            for (int j = 0; j < 270; j++) {
                v[j] = rnd.nextGaussian();
            }
            for (int i = 0; i < 300; i++) {
                for (int j = 0; j < 270; j++) {
                    low[i * 270 + j] += u[i] * v[j];
                }
            }
        }
        LowRank.Fit f = LowRank.fit(low, 300, 270, 6);
        assertEquals(0, residual(low, 300, 270, f), 1e-18 * f.totalEnergy());
        assertEquals(m.length, low.length);
    }

    @Test
    void zeroMatrix() {
        LowRank.Fit f = LowRank.fit(new double[20 * 9], 20, 9, 6);
        assertEquals(0, f.totalEnergy());
        assertEquals(1.0, f.energyFraction());
    }
}
