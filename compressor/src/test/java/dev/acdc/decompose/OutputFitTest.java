package dev.acdc.decompose;

import dev.acdc.linalg.LowRank;

import dev.acdc.ir.Node;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealVector;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The output-matching fit against oracles that share no code with it: a plain-loop 3×3 convolution
 * (padding 1) for outputs and errors, and a dense least-squares solve (QR) for the full-rank case.
 */
class OutputFitTest {
    static final int H = 6;
    /** The one sharing set the tests fit. */
    static final String SET = "s";
    static final int W = 6;
    static final int K = 9;

    /** One conv's calibration problem: compressed inputs x', original targets y (from x and the original kernel). */
    static final class Problem {
        final ConvPlan cp;
        final int in;
        final int out;
        final int n;
        final float[] x2;
        final double[] y;
        final float[] w;
        final float[] b;

        Problem(ConvPlan cp, int in, int out, int n, float[] x2, double[] y, float[] w, float[] b) {
            this.cp = cp;
            this.in = in;
            this.out = out;
            this.n = n;
            this.x2 = x2;
            this.y = y;
            this.w = w;
            this.b = b;
        }

        /** Statistics accumulated in two chunks, PᵀP and PᵀY by plain loops in float. */
        ConvStatistics stats() {
            int d = in * K;
            ConvStatistics st = new ConvStatistics(d, out);
            int rowsPerImage = H * W;
            for (int half = 0; half < 2; half++) {
                int first = half * n / 2;
                int imgs = (half == 0 ? n / 2 : n - n / 2);
                int rows = imgs * rowsPerImage;
                float[] p = patches(x2, first, imgs, in);
                float[] yy = new float[rows * out];
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < out; o++) {
                        int img = first + r / rowsPerImage;
                        int pos = r % rowsPerImage;
                        yy[r * out + o] = (float) y[(img * out + o) * rowsPerImage + pos];
                    }
                }
                float[] ptp = new float[d * d];
                float[] pty = new float[d * out];
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < d; i++) {
                        float pi = p[r * d + i];
                        for (int j = 0; j < d; j++) {
                            ptp[i * d + j] += pi * p[r * d + j];
                        }
                        for (int o = 0; o < out; o++) {
                            pty[i * out + o] += pi * yy[r * out + o];
                        }
                    }
                }
                st.add(rows, ptp, pty, p, yy);
            }
            return st;
        }

        /** Σ (y − conv(x', w) − b)², by the plain-loop convolution. */
        double bruteError(float[] kernel, float[] bias) {
            double[] z = conv(x2, n, in, out, kernel, bias);
            double e = 0;
            for (int i = 0; i < z.length; i++) {
                double dlt = y[i] - z[i];
                e += dlt * dlt;
            }
            return e;
        }
    }

    /** Plain 3×3 convolution with padding 1, stride 1: [n, in, H, W] → [n, out, H, W]. */
    static double[] conv(float[] x, int n, int in, int out, float[] w, float[] b) {
        double[] y = new double[n * out * H * W];
        for (int img = 0; img < n; img++) {
            for (int o = 0; o < out; o++) {
                for (int yy = 0; yy < H; yy++) {
                    for (int xx = 0; xx < W; xx++) {
                        double s = b == null ? 0 : b[o];
                        for (int i = 0; i < in; i++) {
                            for (int ky = 0; ky < 3; ky++) {
                                for (int kx = 0; kx < 3; kx++) {
                                    int iy = yy + ky - 1;
                                    int ix = xx + kx - 1;
                                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                                        s += w[((o * in + i) * 3 + ky) * 3 + kx] * x[((img * in + i) * H + iy) * W + ix];
                                    }
                                }
                            }
                        }
                        y[((img * out + o) * H + yy) * W + xx] = s;
                    }
                }
            }
        }
        return y;
    }

    /** Patch rows (img, y, x) × (i, ky, kx), written out by hand. */
    static float[] patches(float[] x, int first, int imgs, int in) {
        float[] p = new float[imgs * H * W * in * K];
        int r = 0;
        for (int img = first; img < first + imgs; img++) {
            for (int yy = 0; yy < H; yy++) {
                for (int xx = 0; xx < W; xx++) {
                    for (int i = 0; i < in; i++) {
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = yy + ky - 1;
                                int ix = xx + kx - 1;
                                p[r * in * K + i * K + ky * 3 + kx] = iy >= 0 && iy < H && ix >= 0 && ix < W
                                        ? x[((img * in + i) * H + iy) * W + ix] : 0f;
                            }
                        }
                    }
                    r++;
                }
            }
        }
        return p;
    }

    static float[] randn(Random r, int n, double scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * scale);
        }
        return f;
    }

    /** A conv of out × in with blocks g × g; the compressed input is the original plus {@code noise}. */
    static Problem problem(String name, int in, int out, int g, int n, double noise, double shift, Random r) {
        Node node = new Node(name, "Conv", List.of(name + ".x", name + ".w"), List.of(name + ".y"), List.of());
        ConvPlan cp = new ConvPlan(node, out, in, 3, 3, 1, new long[] {out, H, W}, null, SET, Math.min(g, out),
                Math.min(g, in), 0);
        float[] x = randn(r, n * in * H * W, 1);
        // channel-correlated inputs, as real activations are
        for (int img = 0; img < n; img++) {
            for (int i = 1; i < in; i++) {
                for (int p = 0; p < H * W; p++) {
                    x[(img * in + i) * H * W + p] += 0.5f * x[(img * in + i - 1) * H * W + p];
                }
            }
        }
        float[] w = randn(r, out * in * K, Math.sqrt(2.0 / (in * K)));
        float[] b = randn(r, out, 0.1);
        double[] y = conv(x, n, in, out, w, b);
        if (shift != 0) {
            for (int img = 0; img < n; img++) {
                for (int o = 0; o < out; o++) {
                    for (int p = 0; p < H * W; p++) {
                        y[(img * out + o) * H * W + p] += shift * (o + 1);
                    }
                }
            }
        }
        float[] x2 = x.clone();
        for (int i = 0; i < x2.length; i++) {
            x2[i] += (float) (noise * r.nextGaussian()) + (float) (noise * 0.5);
        }
        return new Problem(cp, in, out, n, x2, y, w, b);
    }

    /** A set over the problems' convs, fitted by SVD on their kernels as the planner's fit would. */
    static SharingSet set(String id, int atoms, Problem... ps) {
        return new SharingSet(id, ps[0].cp.go, ps[0].cp.gi, 3, 3,
                java.util.Arrays.stream(ps).map(p -> p.cp).toList(), atoms);
    }

    record Start(float[] alpha, Map<ConvPlan, float[]> atoms) {
    }

    static Start svd(SharingSet s, Problem... ps) {
        int r = s.go * s.gi;
        int c = s.blocks() * K;
        double[] m = new double[r * c];
        int col = 0;
        for (Problem p : ps) {
            for (int bo = 0; bo < p.cp.nbo(); bo++) {
                for (int bi = 0; bi < p.cp.nbi(); bi++) {
                    for (int o = 0; o < s.go; o++) {
                        for (int i = 0; i < s.gi; i++) {
                            for (int t = 0; t < K; t++) {
                                m[(o * s.gi + i) * c + col + t] = p.w[((bo * s.go + o) * p.in + bi * s.gi + i) * K + t];
                            }
                        }
                    }
                    col += K;
                }
            }
        }
        LowRank.Fit f = LowRank.fit(m, r, c, s.atoms);
        Map<ConvPlan, float[]> atoms = new LinkedHashMap<>();
        col = 0;
        for (Problem p : ps) {
            int cc = p.cp.blocks() * K;
            float[] a = new float[f.rank() * cc];
            for (int j = 0; j < f.rank(); j++) {
                for (int t = 0; t < cc; t++) {
                    a[j * cc + t] = (float) f.d()[j * c + col + t];
                }
            }
            atoms.put(p.cp, a);
            col += cc;
        }
        return new Start(OutputFit.toFloat(f.alpha()), atoms);
    }

    @Test
    void statisticsGiveTheExactOutputError() {
        Random r = new Random(1);
        Problem p = problem("c", 8, 8, 8, 5, 0.3, 0, r);
        ConvStatistics st = p.stats();
        float[] w = randn(r, p.w.length, 0.2);
        float[] b = randn(r, p.out, 0.3);
        double brute = p.bruteError(w, b);
        assertEquals(brute, st.error(w, b), 1e-5 * brute);
        assertEquals(p.bruteError(w, null), st.error(w, null), 1e-5 * brute);
        // the mean-correcting bias is the best bias for that kernel: any other is worse
        float[] best = st.meanCorrectingBias(w);
        double e = st.error(w, best);
        float[] nudged = best.clone();
        nudged[3] += 0.01f;
        assertTrue(e < st.error(w, nudged));
        assertEquals(p.bruteError(w, best), e, 1e-5 * brute);
    }

    @Test
    void outputFitBeatsTheSvdFitOnItsCalibrationRowsAndNeverIncreasesTheError() {
        Random r = new Random(2);
        // two convs sharing one α (a stage-like set), 2 output blocks each, 2 atoms of 9
        Problem a = problem("a", 8, 16, 8, 6, 0.4, 0, r);
        Problem b = problem("b", 8, 16, 8, 6, 0.4, 0, r);
        SharingSet s = set(SET, 2, a, b);
        Start start = svd(s, a, b);
        Map<ConvPlan, ConvStatistics> stats = Map.of(a.cp, a.stats(), b.cp, b.stats());
        OutputFit.Result res = OutputFit.fit(s, stats, start.alpha(), start.atoms(),
                Map.of(a.cp, a.b, b.cp, b.b), 30);
        List<Double> obj = res.objective();
        for (int i = 1; i < obj.size(); i++) {
            assertTrue(obj.get(i) <= obj.get(i - 1) * (1 + 1e-9), "objective rose at iteration " + i + ": " + obj);
        }
        double svdTotal = 0;
        double fitTotal = 0;
        for (Problem p : new Problem[] {a, b}) {
            float[] w0 = OutputFit.kernel(s, p.cp, 2, start.alpha(), start.atoms().get(p.cp));
            float[] w = OutputFit.kernel(s, p.cp, 2, res.alpha(), res.atoms().get(p.cp));
            double svdErr = p.bruteError(w0, p.b);
            double fitErr = p.bruteError(w, res.biases().get(p.cp));
            svdTotal += svdErr;
            fitTotal += fitErr;
            // the reported relative errors are the plain-loop ones
            double energy = 0;
            for (double v : p.y) {
                energy += v * v;
            }
            // (the errors come from each member's α system and the bias's shift from the mean-correcting one)
            assertEquals(Math.sqrt(svdErr / energy), res.errors().get(p.cp).svd(), 1e-5 * Math.sqrt(svdErr / energy));
            assertEquals(Math.sqrt(fitErr / energy), res.errors().get(p.cp).fitted(), 1e-5 * Math.sqrt(fitErr / energy));
        }
        assertTrue(fitTotal < 0.95 * svdTotal, "output fit " + fitTotal + " vs svd " + svdTotal);
        // the objective the ALS tracks (from its normal equations) is the plain-loop error of what it returns
        double tracked = obj.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        assertEquals(fitTotal, tracked, 1e-5 * fitTotal);
    }

    @Test
    void fullRankOutputFitIsTheDenseLeastSquaresOptimum() {
        Random r = new Random(3);
        Problem p = problem("c", 4, 4, 4, 4, 0.5, 0, r);
        SharingSet s = set(SET, 9, p); // 9 atoms of 9 taps: every kernel is representable
        Start start = svd(s, p);
        ConvStatistics st = p.stats();
        OutputFit.Result res = OutputFit.fit(s, Map.of(p.cp, st), start.alpha(), start.atoms(), Map.of(p.cp, p.b), 50);
        float[] w = OutputFit.kernel(s, p.cp, 9, res.alpha(), res.atoms().get(p.cp));
        double fitted = p.bruteError(w, res.biases().get(p.cp));
        // oracle: per output channel, least squares of y on [patches | 1] by QR
        int rows = p.n * H * W;
        int d = p.in * K;
        float[] pt = patches(p.x2, 0, p.n, p.in);
        double[][] a = new double[rows][d + 1];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < d; j++) {
                a[i][j] = pt[i * d + j];
            }
            a[i][d] = 1;
        }
        QRDecomposition qr = new QRDecomposition(new Array2DRowRealMatrix(a, false));
        double optimum = 0;
        for (int o = 0; o < p.out; o++) {
            double[] yo = new double[rows];
            for (int i = 0; i < rows; i++) {
                yo[i] = p.y[((i / (H * W)) * p.out + o) * H * W + i % (H * W)];
            }
            RealVector coef = qr.getSolver().solve(new ArrayRealVector(yo, false));
            RealVector res2 = new Array2DRowRealMatrix(a, false).operate(coef).subtract(new ArrayRealVector(yo, false));
            optimum += res2.dotProduct(res2);
        }
        assertTrue(optimum > 1, "the compressed input makes the problem inexact: " + optimum);
        assertEquals(optimum, fitted, 1e-3 * optimum);
    }

    @Test
    void biasCorrectionRemovesAConstructedMeanShiftExactly() {
        Random r = new Random(4);
        // inputs unchanged, targets shifted by (o+1)·0.25 per channel: at full rank the kernel is exact
        // and the whole shift must land in the bias
        Problem p = problem("c", 4, 4, 4, 3, 0, 0.25, r);
        SharingSet s = set(SET, 9, p);
        Start start = svd(s, p);
        OutputFit.Result res = OutputFit.fit(s, Map.of(p.cp, p.stats()), start.alpha(), start.atoms(),
                Map.of(p.cp, p.b), 5);
        float[] bias = res.biases().get(p.cp);
        for (int o = 0; o < p.out; o++) {
            assertEquals(p.b[o] + 0.25 * (o + 1), bias[o], 1e-4, "bias of channel " + o);
        }
        assertTrue(res.errors().get(p.cp).fitted() < 1e-4, "error " + res.errors().get(p.cp));
        assertTrue(res.errors().get(p.cp).svd() > 0.05, "the shift is visible to the svd fit");
    }
}
