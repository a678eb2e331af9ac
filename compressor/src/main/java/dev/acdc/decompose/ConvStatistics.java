package dev.acdc.decompose;

import dev.acdc.linalg.Gemm;

/**
 * The sufficient statistics of one convolution's output-matching problem, accumulated over
 * calibration rows (one row = one output position of one image). With {@code p} the im2col patch of
 * the input the <em>compressed</em> network feeds the conv (d = I·kh·kw values, ordered (i, tap) as
 * the ONNX kernel) and {@code y} the <em>original</em> conv's output at that position (O values,
 * bias included):
 * <pre>
 *   C = Σ p pᵀ (d×d)    R = Σ p yᵀ (d×O)    Σ p    Σ y    Σ y²  (per channel)    n = rows
 * </pre>
 * For any kernel row {@code w_o} and bias {@code b_o} the squared output error
 * {@code Σ (y_o − pᵀw_o − b_o)²} follows exactly from these (see {@link #error}); no activation is
 * kept. Memory: (d² + d·O) doubles, 2.9 MB for a 64-channel 3×3 conv.
 */
public final class ConvStatistics {
    final int d;
    final int outs;
    long rows;
    final double[] c;
    final double[] r;
    final double[] sumP;
    final double[] sumY;
    final double[] sumYY;

    public ConvStatistics(int d, int outs) {
        this.d = d;
        this.outs = outs;
        this.c = new double[d * d];
        this.r = new double[d * outs];
        this.sumP = new double[d];
        this.sumY = new double[outs];
        this.sumYY = new double[outs];
    }

    public int patchSize() {
        return d;
    }

    public int outputs() {
        return outs;
    }

    public long rows() {
        return rows;
    }

    /**
     * Adds a chunk of {@code n} rows: {@code ptp} = PᵀP (d×d), {@code pty} = PᵀY (d×O), both as
     * computed (in float) for the chunk, and the chunk's patch matrix P (n×d) and outputs Y (n×O),
     * row-major, for the sums.
     */
    public void add(int n, float[] ptp, float[] pty, float[] p, float[] y) {
        for (int i = 0; i < c.length; i++) {
            c[i] += ptp[i];
        }
        for (int i = 0; i < r.length; i++) {
            r[i] += pty[i];
        }
        for (int row = 0; row < n; row++) {
            int po = row * d;
            for (int j = 0; j < d; j++) {
                sumP[j] += p[po + j];
            }
            int yo = row * outs;
            for (int o = 0; o < outs; o++) {
                double v = y[yo + o];
                sumY[o] += v;
                sumYY[o] += v * v;
            }
        }
        rows += n;
    }

    /** Centered C: Σ (p − p̄)(p − p̄)ᵀ. */
    double[] centeredC() {
        double[] cc = c.clone();
        double inv = rows == 0 ? 0 : 1.0 / rows;
        for (int i = 0; i < d; i++) {
            double si = sumP[i] * inv;
            for (int j = 0; j < d; j++) {
                cc[i * d + j] -= si * sumP[j];
            }
        }
        return cc;
    }

    /** Centered R: Σ (p − p̄)(y − ȳ)ᵀ. */
    double[] centeredR() {
        double[] rc = r.clone();
        double inv = rows == 0 ? 0 : 1.0 / rows;
        for (int i = 0; i < d; i++) {
            double si = sumP[i] * inv;
            for (int o = 0; o < outs; o++) {
                rc[i * outs + o] -= si * sumY[o];
            }
        }
        return rc;
    }

    /** Σ y_o² over all rows and channels: the output's energy (the denominator of relative errors). */
    public double outputEnergy() {
        double e = 0;
        for (double v : sumYY) {
            e += v;
        }
        return e;
    }

    /**
     * The exact squared output error Σ_rows Σ_o (y_o − pᵀw_o − b_o)² of kernel {@code w} ([O, d]
     * row-major) and bias {@code b} (null: zero; {@link Double#NaN} entries are not allowed).
     */
    public double error(float[] w, float[] b) {
        double[] wd = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            wd[i] = w[i];
        }
        double[] quad = Gemm.quadraticForms(wd, outs, d, c);
        double e = 0;
        for (int o = 0; o < outs; o++) {
            int wo = o * d;
            double lin = 0;
            double mean = 0;
            for (int i = 0; i < d; i++) {
                lin += r[i * outs + o] * wd[wo + i];
                mean += sumP[i] * wd[wo + i];
            }
            double bo = b == null ? 0 : b[o];
            // Σ (y − pᵀw − b)² = Σy² − 2 wᵀΣpy + wᵀCw − 2b(Σy − wᵀΣp) + n b²
            e += sumYY[o] - 2 * lin + quad[o] - 2 * bo * (sumY[o] - mean) + rows * bo * bo;
        }
        return Math.max(0, e);
    }

    /**
     * {@link #error} from the error {@code centered} of kernel {@code w} with its mean-correcting bias b*:
     * Σ (y − pᵀw − b)² = centered + n·Σ_o (b*_o − b_o)², the cross term summing to zero over the rows.
     */
    double errorFromCentered(double centered, float[] w, float[] b) {
        double e = Math.max(0, centered);
        for (int o = 0; o < outs; o++) {
            double s = 0;
            for (int i = 0; i < d; i++) {
                s += sumP[i] * w[o * d + i];
            }
            double shift = (sumY[o] - s) / Math.max(1, rows) - (b == null ? 0 : b[o]);
            e += rows * shift * shift;
        }
        return e;
    }

    /** The bias that removes the mean shift of kernel {@code w}: b_o = ȳ_o − p̄ᵀw_o. */
    public float[] meanCorrectingBias(float[] w) {
        float[] b = new float[outs];
        for (int o = 0; o < outs; o++) {
            double s = 0;
            for (int i = 0; i < d; i++) {
                s += sumP[i] * w[o * d + i];
            }
            b[o] = (float) ((sumY[o] - s) / Math.max(1, rows));
        }
        return b;
    }
}
