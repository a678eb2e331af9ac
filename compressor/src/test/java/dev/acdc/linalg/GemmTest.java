package dev.acdc.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The blocked product against the triple loop, with sizes that cross every tile edge, and its quadratic forms. */
class GemmTest {
    @Test
    void blockedProductEqualsTheTripleLoopAcrossTileEdges() {
        Random rnd = new Random(5);
        int r = Gemm.ROWS * 2 + 3;
        int k = Gemm.DEPTH + 7;
        int c = Gemm.COLS + 9;
        double[] a = new double[r * k];
        double[] b = new double[k * c];
        for (int i = 0; i < a.length; i++) {
            a[i] = i % 11 == 0 ? 0 : rnd.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextGaussian();
        }
        double[] got = Gemm.multiply(a, r, k, b, c);
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[i * k + p] * b[p * c + j];
                }
                assertEquals(s, got[i * c + j], 1e-12 * (1 + Math.abs(s)));
            }
        }
    }

    @Test
    void quadraticFormsAreTheRowsTimesTheMatrixTimesTheRows() {
        Random rnd = new Random(6);
        int r = 21;
        int k = 140;
        double[] w = new double[r * k];
        double[] a = new double[k * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextGaussian();
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextGaussian();
        }
        double[] q = Gemm.quadraticForms(w, r, k, a);
        for (int o = 0; o < r; o++) {
            double s = 0;
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    s += w[o * k + i] * a[i * k + j] * w[o * k + j];
                }
            }
            assertEquals(s, q[o], 1e-10 * (1 + Math.abs(s)));
        }
    }
}
