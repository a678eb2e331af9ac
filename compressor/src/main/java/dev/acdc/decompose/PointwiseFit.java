package dev.acdc.decompose;

import dev.acdc.linalg.Cholesky;
import dev.acdc.linalg.LowRank;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The output-matching fit of a pointwise set ({@link SharingSet#pointwise()}): each member's 1×1 kernel is
 * W_ℓ = A_ℓ·B, B = αᵀ (m × I) shared by the members, A_ℓ = its atomsᵀ (O_ℓ × m), and the summed output error
 * <pre>
 *   E = Σ_ℓ tr(A_ℓ B C_ℓ Bᵀ A_ℓᵀ) − 2 tr(A_ℓ B R_ℓ) + Σ centred y²
 * </pre>
 * is minimised over B and every A_ℓ (C_ℓ, R_ℓ the centred statistics of {@link ConvStatistics}; the bias is
 * the mean correction, as in {@link OutputFit}). The general ALS of {@link OutputFit} would need a normal
 * matrix of (I·m)² for α — 2·10⁹ doubles for a 2048-wide conv — so pointwise sets are fitted here:
 * <ul>
 * <li>one member: the exact optimum of rank m (reduced-rank regression). With C = L·Lᵀ and V = W·L,
 * E = ‖V − (L⁻¹R)ᵀ‖² + const, so V is the truncated SVD of (L⁻¹R)ᵀ and W = V·L⁻¹: α = L⁻ᵀ·P·Σ, atoms = Qᵀ
 * for L⁻¹R ≈ P Σ Qᵀ;</li>
 * <li>several members: alternating least squares from the SVD start. A_ℓ given B solves the m × m system
 * (B C_ℓ Bᵀ)·atoms_ℓ = B·R_ℓ; α given the A_ℓ solves Σ_ℓ C_ℓ α G_ℓ = Σ_ℓ R_ℓ A_ℓ (G_ℓ = A_ℓᵀA_ℓ) by
 * conjugate gradients from the current α, which lowers E at every step.</li>
 * </ul>
 * Every step only lowers E, and the start is kept if nothing beats it.
 */
final class PointwiseFit {
    /**
     * Conjugate-gradient steps per α solve and alternations at most: each CG step costs Σ_ℓ I²·m multiply-adds
     * (0.5·10⁹ for a 2048-wide set of rank 128), and each starts from the previous α, so a few dozen suffice.
     */
    private static final int CG_STEPS = 40;
    private static final int MAX_ALTERNATIONS = 15;

    private PointwiseFit() {
    }

    static OutputFit.Result fit(SharingSet s, Map<ConvPlan, ConvStatistics> stats, float[] alpha0,
                                Map<ConvPlan, float[]> atoms0, Map<ConvPlan, float[]> bias0, int iterations) {
        int in = s.gi;
        int m = alpha0.length / in;
        List<ConvPlan> members = s.members;
        OutputFit.Centered cs = OutputFit.Centered.of(s, stats);
        Map<ConvPlan, double[]> cc = cs.c();
        Map<ConvPlan, double[]> rc = cs.r();
        double yyc = cs.yy();
        double[] alpha = OutputFit.toDouble(alpha0);
        Map<ConvPlan, double[]> atoms = new LinkedHashMap<>();
        for (ConvPlan cp : members) {
            atoms.put(cp, OutputFit.toDouble(atoms0.get(cp)));
        }
        List<Double> objective = new ArrayList<>();
        double best = OutputFit.objective(s, m, alpha, atoms, cc, rc, yyc);
        objective.add(best);
        double[] bestAlpha = alpha.clone();
        Map<ConvPlan, double[]> bestAtoms = copy(atoms);
        if (members.size() == 1) {
            ConvPlan cp = members.get(0);
            double[][] f = reducedRank(cc.get(cp), rc.get(cp), in, (int) cp.out, m);
            Map<ConvPlan, double[]> a = Map.of(cp, f[1]);
            double e = OutputFit.objective(s, m, f[0], a, cc, rc, yyc);
            objective.add(e);
            if (e < best) {
                bestAlpha = f[0];
                bestAtoms = copy(a);
            }
        } else {
            for (int it = 0; it < Math.min(iterations, MAX_ALTERNATIONS); it++) {
                alpha = solveAlpha(s, m, alpha, atoms, cc, rc);
                for (ConvPlan cp : members) {
                    atoms.put(cp, solveAtoms(in, m, (int) cp.out, alpha, cc.get(cp), rc.get(cp)));
                }
                double e = OutputFit.objective(s, m, alpha, atoms, cc, rc, yyc);
                objective.add(e);
                if (!(e < best)) {
                    break;
                }
                double gain = (best - e) / Math.max(best, 1e-300);
                best = e;
                bestAlpha = alpha.clone();
                bestAtoms = copy(atoms);
                if (gain < 1e-5) {
                    break;
                }
            }
        }
        return OutputFit.result(s, m, stats, cs, alpha0, atoms0, bias0, bestAlpha, bestAtoms, objective);
    }

    /** One member's atoms with α fixed: the exact least-squares optimum (B C Bᵀ)·atoms = B·R. */
    static double[] solveAtoms(int in, int m, int outs, double[] alpha, double[] c, double[] r) {
        // B = αᵀ (m × in): the normal matrix B C Bᵀ = αᵀ(Cα), and the right-hand sides (B·R)ᵀ, one row per output o
        double[] lhs = transposeTimes(alpha, in, m, multiply(c, in, in, alpha, m), m);
        double[] br = transposeTimes(alpha, in, m, r, outs);
        double[] rhs = new double[outs * m];
        for (int j = 0; j < m; j++) {
            for (int o = 0; o < outs; o++) {
                rhs[o * m + j] = br[j * outs + o];
            }
        }
        double[] x = Cholesky.solve(lhs, m, rhs, outs, OutputFit.RIDGE);
        double[] atoms = new double[m * outs];
        for (int o = 0; o < outs; o++) {
            for (int j = 0; j < m; j++) {
                atoms[j * outs + o] = x[o * m + j];
            }
        }
        return atoms;
    }

    /**
     * α with the atoms fixed: Σ_ℓ C_ℓ X G_ℓ (+ a ridge) = Σ_ℓ R_ℓ A_ℓ by conjugate gradients from {@code start}
     * (the operator is symmetric positive semi-definite in X; each step lowers the quadratic, i.e. E).
     */
    static double[] solveAlpha(SharingSet s, int m, double[] start, Map<ConvPlan, double[]> atoms,
                               Map<ConvPlan, double[]> cc, Map<ConvPlan, double[]> rc) {
        int in = s.gi;
        int n = in * m;
        Map<ConvPlan, double[]> grams = new LinkedHashMap<>();
        double[] b = new double[n];
        double trace = 0;
        for (ConvPlan cp : s.members) {
            int outs = (int) cp.out;
            double[] d = atoms.get(cp); // m × outs: A = dᵀ
            double[] g = new double[m * m];
            for (int j1 = 0; j1 < m; j1++) {
                for (int j2 = 0; j2 < m; j2++) {
                    double acc = 0;
                    for (int o = 0; o < outs; o++) {
                        acc += d[j1 * outs + o] * d[j2 * outs + o];
                    }
                    g[j1 * m + j2] = acc;
                }
            }
            grams.put(cp, g);
            double[] r = rc.get(cp);
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < outs; o++) {
                    double rv = r[i * outs + o];
                    if (rv == 0) {
                        continue;
                    }
                    for (int j = 0; j < m; j++) {
                        b[i * m + j] += rv * d[j * outs + o];
                    }
                }
            }
            double[] c = cc.get(cp);
            double tc = 0;
            double tg = 0;
            for (int i = 0; i < in; i++) {
                tc += c[i * in + i];
            }
            for (int j = 0; j < m; j++) {
                tg += g[j * m + j];
            }
            trace += tc * tg;
        }
        double ridge = OutputFit.RIDGE * Math.max(trace / n, 1e-300);
        double[] x = start.clone();
        double[] res = b.clone();
        double[] ax = apply(s, m, x, grams, cc, ridge);
        for (int i = 0; i < n; i++) {
            res[i] -= ax[i];
        }
        double[] p = res.clone();
        double rr = dot(res, res);
        double stop = 1e-24 * Math.max(dot(b, b), 1e-300);
        for (int step = 0; step < CG_STEPS && rr > stop; step++) {
            double[] ap = apply(s, m, p, grams, cc, ridge);
            double pap = dot(p, ap);
            if (!(pap > 0)) {
                break;
            }
            double a = rr / pap;
            for (int i = 0; i < n; i++) {
                x[i] += a * p[i];
                res[i] -= a * ap[i];
            }
            double rr2 = dot(res, res);
            double beta = rr2 / rr;
            rr = rr2;
            for (int i = 0; i < n; i++) {
                p[i] = res[i] + beta * p[i];
            }
        }
        return x;
    }

    /** X ↦ Σ_ℓ C_ℓ·X·G_ℓ + ridge·X for X in × m. */
    private static double[] apply(SharingSet s, int m, double[] x, Map<ConvPlan, double[]> grams,
                                  Map<ConvPlan, double[]> cc, double ridge) {
        int in = s.gi;
        double[] out = new double[in * m];
        for (ConvPlan cp : s.members) {
            double[] xg = multiply(x, in, m, grams.get(cp), m);
            double[] cxg = multiply(cc.get(cp), in, in, xg, m);
            for (int i = 0; i < out.length; i++) {
                out[i] += cxg[i];
            }
        }
        for (int i = 0; i < out.length; i++) {
            out[i] += ridge * x[i];
        }
        return out;
    }

    /**
     * The rank-{@code m} minimiser of tr(W C Wᵀ) − 2 tr(W R) as {α (in × m), atoms (m × outs)}: whitened by C's
     * Cholesky factor, it is the truncated SVD of L⁻¹R (Eckart–Young), mapped back through L⁻ᵀ.
     */
    static double[][] reducedRank(double[] c, double[] r, int in, int outs, int m) {
        Cholesky.Factor f = Cholesky.factorWithRidge(c, in, OutputFit.RIDGE);
        double[] w = r.clone();
        f.solveLower(w, outs);
        LowRank.Fit svd = LowRank.fit(w, in, outs, m);
        int k = svd.rank();
        double[] alpha = new double[in * m];
        double[] atoms = new double[m * outs];
        for (int i = 0; i < in; i++) {
            System.arraycopy(svd.alpha(), i * k, alpha, i * m, k);
        }
        System.arraycopy(svd.d(), 0, atoms, 0, k * outs);
        f.solveUpper(alpha, m);
        return new double[][] {alpha, atoms};
    }

    private static double[] multiply(double[] a, int rows, int inner, double[] b, int cols) {
        double[] out = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int t = 0; t < inner; t++) {
                double v = a[i * inner + t];
                if (v == 0) {
                    continue;
                }
                int bo = t * cols;
                int oo = i * cols;
                for (int j = 0; j < cols; j++) {
                    out[oo + j] += v * b[bo + j];
                }
            }
        }
        return out;
    }

    /** aᵀ·b for a (rows × ca) and b (rows × cb), row-major: ca × cb. */
    private static double[] transposeTimes(double[] a, int rows, int ca, double[] b, int cb) {
        double[] out = new double[ca * cb];
        for (int i = 0; i < rows; i++) {
            for (int x = 0; x < ca; x++) {
                double v = a[i * ca + x];
                if (v == 0) {
                    continue;
                }
                for (int y = 0; y < cb; y++) {
                    out[x * cb + y] += v * b[i * cb + y];
                }
            }
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static Map<ConvPlan, double[]> copy(Map<ConvPlan, double[]> m) {
        Map<ConvPlan, double[]> c = new LinkedHashMap<>();
        m.forEach((k, v) -> c.put(k, v.clone()));
        return c;
    }
}
