package dev.acdc.decompose;

import dev.acdc.linalg.Cholesky;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The output-matching fit of one sharing set (docs/method.md, "The output-matching fit"). Given each
 * member conv's {@link ConvStatistics} (inputs from the compressed prefix, targets from the original
 * conv), it minimises the summed squared output error
 * <pre>
 *   E(α, D, b) = Σ_ℓ Σ_rows ‖y_ℓ − W_ℓ(α, D_ℓ) p_ℓ − b_ℓ‖²,   W_ℓ[bo·go+o', bi·gi+i', t] = Σ_k α[o'·gi+i', k] D_ℓ[k, (bo,bi,t)]
 * </pre>
 * over the set's shared coefficients α, every block's atoms and every member's bias. The bias is
 * eliminated in closed form (b = ȳ − p̄ᵀw, so the weights are fitted to centered statistics), and α
 * and the atoms are fitted by alternating least squares: with the atoms fixed E is quadratic in α
 * and all rows o' share one normal matrix; with α fixed it is quadratic in each conv's atoms, one
 * normal matrix per conv shared by its output blocks. Each step solves its normal equations exactly
 * (Cholesky, with a ridge of {@value #RIDGE} of the mean diagonal), so E never increases; the fit
 * starts from the SVD factors and keeps the best iterate.
 */
public final class OutputFit {
    static final double RIDGE = 1e-7;

    /** Errors of one conv on the calibration rows, relative to its output's energy. */
    public record ConvError(double svd, double fitted) {
    }

    /** The fitted factors and biases, per-member errors, and E after each iteration (first: the start). */
    public record Result(float[] alpha, Map<ConvPlan, float[]> atoms, Map<ConvPlan, float[]> biases,
                         Map<ConvPlan, ConvError> errors, List<Double> objective) {
    }

    private OutputFit() {
    }

    /**
     * Fits set {@code s}. {@code alpha0}/{@code atoms0} are the start (the SVD fit), {@code bias0} the
     * original biases (null entries: no bias), used for the "svd" error.
     */
    public static Result fit(SharingSet s, Map<ConvPlan, ConvStatistics> stats, float[] alpha0,
                             Map<ConvPlan, float[]> atoms0, Map<ConvPlan, float[]> bias0, int iterations) {
        if (s.pointwise()) {
            return PointwiseFit.fit(s, stats, alpha0, atoms0, bias0, iterations);
        }
        int m = alpha0.length / (s.go * s.gi);
        List<ConvPlan> members = s.members;
        Centered cs = Centered.of(s, stats);
        Map<ConvPlan, double[]> cc = cs.c();
        Map<ConvPlan, double[]> rc = cs.r();
        double yyc = cs.yy();
        double[] alpha = toDouble(alpha0);
        Map<ConvPlan, double[]> atoms = new LinkedHashMap<>();
        for (ConvPlan cp : members) {
            atoms.put(cp, toDouble(atoms0.get(cp)));
        }
        List<Double> objective = new ArrayList<>();
        double best = objective(s, m, alpha, atoms, cc, rc, yyc);
        objective.add(best);
        double[] bestAlpha = alpha.clone();
        Map<ConvPlan, double[]> bestAtoms = copy(atoms);
        for (int it = 0; it < iterations; it++) {
            alpha = solveAlpha(s, m, atoms, cc, rc);
            // the atom step ends the iteration, so E follows from its normal equations: with
            // (A + λI)u = b, uᵀAu − 2bᵀu = −bᵀu − λ‖u‖² — no pass over the statistics
            double e = yyc;
            for (ConvPlan cp : members) {
                double[] gain = new double[1];
                atoms.put(cp, solveAtoms(s, cp, m, alpha, cc.get(cp), rc.get(cp), gain));
                e -= gain[0];
            }
            e = Math.max(0, e);
            objective.add(e);
            boolean improved = e < best;
            if (improved) {
                double gain = (best - e) / Math.max(best, 1e-300);
                best = e;
                bestAlpha = alpha.clone();
                bestAtoms = copy(atoms);
                if (gain < 1e-5) {
                    break;
                }
            } else {
                break;
            }
        }
        return result(s, m, stats, alpha0, atoms0, bias0, bestAlpha, bestAtoms, objective);
    }

    /** A set's centred statistics: per member C and R, and the summed centred output energy. */
    record Centered(Map<ConvPlan, double[]> c, Map<ConvPlan, double[]> r, double yy) {
        static Centered of(SharingSet s, Map<ConvPlan, ConvStatistics> stats) {
            Map<ConvPlan, double[]> cc = new LinkedHashMap<>();
            Map<ConvPlan, double[]> rc = new LinkedHashMap<>();
            double yyc = 0;
            for (ConvPlan cp : s.members) {
                ConvStatistics st = stats.get(cp);
                cc.put(cp, st.centeredC());
                rc.put(cp, st.centeredR());
                yyc += centeredEnergy(st);
            }
            return new Centered(cc, rc, yyc);
        }
    }

    /** The result of fitted factors: each member's mean-correcting bias and its errors before and after. */
    static Result result(SharingSet s, int m, Map<ConvPlan, ConvStatistics> stats, float[] alpha0,
                         Map<ConvPlan, float[]> atoms0, Map<ConvPlan, float[]> bias0, double[] bestAlpha,
                         Map<ConvPlan, double[]> bestAtoms, List<Double> objective) {
        List<ConvPlan> members = s.members;
        float[] a = toFloat(bestAlpha);
        Map<ConvPlan, float[]> outAtoms = new LinkedHashMap<>();
        Map<ConvPlan, float[]> biases = new LinkedHashMap<>();
        Map<ConvPlan, ConvError> errors = new LinkedHashMap<>();
        for (ConvPlan cp : members) {
            ConvStatistics st = stats.get(cp);
            float[] d = toFloat(bestAtoms.get(cp));
            outAtoms.put(cp, d);
            float[] w0 = kernel(s, cp, m, alpha0, atoms0.get(cp));
            float[] w = kernel(s, cp, m, a, d);
            float[] b = st.meanCorrectingBias(w);
            biases.put(cp, b);
            double energy = Math.max(st.outputEnergy(), 1e-300);
            errors.put(cp, new ConvError(Math.sqrt(st.error(w0, bias0.get(cp)) / energy),
                    Math.sqrt(st.error(w, b) / energy)));
        }
        return new Result(a, outAtoms, biases, errors, objective);
    }

    /**
     * Refits one member's atoms and bias with α fixed, on statistics taken after the rest of its set
     * was fitted (the second, sequential pass for sets of several convs): the exact least-squares
     * optimum of that conv's atoms given its actual inputs. {@code svdKernel}/{@code bias0} give the
     * "svd" error on the same statistics.
     */
    public static Result fitAtoms(SharingSet s, ConvPlan cp, ConvStatistics st, float[] alpha, float[] atoms0,
                                  float[] svdKernel, float[] bias0) {
        int m = alpha.length / (s.go * s.gi);
        double[] a = toDouble(alpha);
        double[] cc = st.centeredC();
        double[] rc = st.centeredR();
        double yyc = centeredEnergy(st);
        SharingSet single = new SharingSet(s.id, s.go, s.gi, s.kh, s.kw, List.of(cp), m);
        Map<ConvPlan, double[]> start = new LinkedHashMap<>(Map.of(cp, toDouble(atoms0)));
        Map<ConvPlan, double[]> ccm = Map.of(cp, cc);
        Map<ConvPlan, double[]> rcm = Map.of(cp, rc);
        double e0 = objective(single, m, a, start, ccm, rcm, yyc);
        double[] atoms = s.pointwise() ? PointwiseFit.solveAtoms(s.gi, m, (int) cp.out, a, cc, rc)
                : solveAtoms(s, cp, m, a, cc, rc, new double[1]);
        double e1 = objective(single, m, a, Map.of(cp, atoms), ccm, rcm, yyc);
        float[] d = toFloat(e1 <= e0 ? atoms : start.get(cp));
        float[] w = kernel(s, cp, m, alpha, d);
        float[] b = st.meanCorrectingBias(w);
        double energy = Math.max(st.outputEnergy(), 1e-300);
        ConvError err = new ConvError(Math.sqrt(st.error(svdKernel, bias0) / energy), Math.sqrt(st.error(w, b) / energy));
        return new Result(alpha.clone(), Map.of(cp, d), Map.of(cp, b), Map.of(cp, err), List.of(e0, Math.min(e0, e1)));
    }

    static double centeredEnergy(ConvStatistics st) {
        double e = 0;
        for (int o = 0; o < st.outs; o++) {
            e += st.sumYY[o] - st.sumY[o] * st.sumY[o] / Math.max(1, st.rows);
        }
        return e;
    }

    /** α-step: L·a_{o'} = rhs_{o'}, L = Σ_{ℓ,bo} Qᵀ C Q, rhs_{o'} = Σ_{ℓ,bo} Qᵀ R[:, bo·go+o']. */
    static double[] solveAlpha(SharingSet s, int m, Map<ConvPlan, double[]> atoms, Map<ConvPlan, double[]> cc,
                               Map<ConvPlan, double[]> rc) {
        int gi = s.gi;
        int go = s.go;
        int k = s.kh * s.kw;
        int n = gi * m;
        double[] l = new double[n * n];
        double[] rhs = new double[go * n];
        for (ConvPlan cp : s.members) {
            double[] c = cc.get(cp);
            double[] r = rc.get(cp);
            double[] dd = atoms.get(cp);
            int nbi = cp.nbi();
            int d = nbi * gi * k;
            int cols = cp.nbo() * nbi * k;
            int outs = (int) cp.out;
            for (int bo = 0; bo < cp.nbo(); bo++) {
                // Z = C·Q (d × n): Z[row, (i', j)] = Σ_{bi,t} C[row, (bi·gi+i')·k + t] · D[j, (bo·nbi+bi)·k + t]
                double[] z = new double[d * n];
                for (int row = 0; row < d; row++) {
                    int co = row * d;
                    int zo = row * n;
                    for (int bi = 0; bi < nbi; bi++) {
                        int dcol = (bo * nbi + bi) * k;
                        for (int ip = 0; ip < gi; ip++) {
                            int cbase = co + (bi * gi + ip) * k;
                            for (int j = 0; j < m; j++) {
                                int dbase = j * cols + dcol;
                                double acc = 0;
                                for (int t = 0; t < k; t++) {
                                    acc += c[cbase + t] * dd[dbase + t];
                                }
                                z[zo + ip * m + j] += acc;
                            }
                        }
                    }
                }
                // L += Qᵀ Z; rhs_{o'} += Qᵀ R[:, bo·go + o']
                for (int bi = 0; bi < nbi; bi++) {
                    int dcol = (bo * nbi + bi) * k;
                    for (int ip = 0; ip < gi; ip++) {
                        for (int t = 0; t < k; t++) {
                            int row = (bi * gi + ip) * k + t;
                            for (int j = 0; j < m; j++) {
                                double q = dd[j * cols + dcol + t];
                                if (q == 0) {
                                    continue;
                                }
                                int lo = (ip * m + j) * n;
                                int zo = row * n;
                                for (int x = 0; x < n; x++) {
                                    l[lo + x] += q * z[zo + x];
                                }
                                int ro = row * outs + bo * go;
                                for (int op = 0; op < go; op++) {
                                    rhs[op * n + ip * m + j] += q * r[ro + op];
                                }
                            }
                        }
                    }
                }
            }
        }
        double[] x = Cholesky.solve(l, n, rhs, go, RIDGE);
        double[] alpha = new double[go * gi * m];
        for (int op = 0; op < go; op++) {
            for (int ip = 0; ip < gi; ip++) {
                for (int j = 0; j < m; j++) {
                    alpha[(op * gi + ip) * m + j] = x[op * n + ip * m + j];
                }
            }
        }
        return alpha;
    }

    /**
     * Atom step of one conv: for every output block bo, LHS·u_bo = rhs_bo with u = D[:, (bo, ·, ·)]
     * ordered (bi, j, t), LHS[(bi1,j1,t1),(bi2,j2,t2)] = Σ_{i1,i2} G[(i1,j1),(i2,j2)]·C[(bi1,i1,t1),(bi2,i2,t2)],
     * G = Σ_{o'} α_{o'}ᵀα_{o'} (the same for every bo).
     */
    static double[] solveAtoms(SharingSet s, ConvPlan cp, int m, double[] alpha, double[] c, double[] r,
                               double[] gain) {
        int gi = s.gi;
        int go = s.go;
        int k = s.kh * s.kw;
        int nbi = cp.nbi();
        int nbo = cp.nbo();
        int d = nbi * gi * k;
        int outs = (int) cp.out;
        int gm = gi * m;
        double[] g = new double[gm * gm];
        for (int op = 0; op < go; op++) {
            int ao = op * gi * m;
            for (int x = 0; x < gm; x++) {
                double ax = alpha[ao + x];
                if (ax == 0) {
                    continue;
                }
                for (int y = 0; y < gm; y++) {
                    g[x * gm + y] += ax * alpha[ao + y];
                }
            }
        }
        int n = nbi * m * k;
        double[] lhs = new double[n * n];
        for (int bi1 = 0; bi1 < nbi; bi1++) {
            for (int i1 = 0; i1 < gi; i1++) {
                for (int t1 = 0; t1 < k; t1++) {
                    int r1 = (bi1 * gi + i1) * k + t1;
                    for (int bi2 = 0; bi2 < nbi; bi2++) {
                        for (int i2 = 0; i2 < gi; i2++) {
                            int r2base = (bi2 * gi + i2) * k;
                            for (int j1 = 0; j1 < m; j1++) {
                                int lrow = (bi1 * m + j1) * k + t1;
                                int go1 = (i1 * m + j1) * gm + i2 * m;
                                for (int j2 = 0; j2 < m; j2++) {
                                    double gv = g[go1 + j2];
                                    int lo = lrow * n + (bi2 * m + j2) * k;
                                    int co = r1 * d + r2base;
                                    for (int t2 = 0; t2 < k; t2++) {
                                        lhs[lo + t2] += gv * c[co + t2];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        double[] rhs = new double[nbo * n];
        for (int bo = 0; bo < nbo; bo++) {
            for (int bi = 0; bi < nbi; bi++) {
                for (int ip = 0; ip < gi; ip++) {
                    for (int t = 0; t < k; t++) {
                        int row = (bi * gi + ip) * k + t;
                        for (int op = 0; op < go; op++) {
                            double rv = r[row * outs + bo * go + op];
                            int ao = (op * gi + ip) * m;
                            for (int j = 0; j < m; j++) {
                                rhs[bo * n + (bi * m + j) * k + t] += alpha[ao + j] * rv;
                            }
                        }
                    }
                }
            }
        }
        Cholesky.Solution sol = Cholesky.solveWithRidge(lhs, n, rhs, nbo, RIDGE);
        double[] u = sol.x();
        double g0 = 0;
        for (int i = 0; i < u.length; i++) {
            g0 += rhs[i] * u[i] + sol.lambda() * u[i] * u[i];
        }
        gain[0] = g0;
        int cols = nbo * nbi * k;
        double[] atoms = new double[m * cols];
        for (int bo = 0; bo < nbo; bo++) {
            for (int bi = 0; bi < nbi; bi++) {
                for (int j = 0; j < m; j++) {
                    for (int t = 0; t < k; t++) {
                        atoms[j * cols + (bo * nbi + bi) * k + t] = u[bo * n + (bi * m + j) * k + t];
                    }
                }
            }
        }
        return atoms;
    }

    /** Σ_ℓ Σ_o w_oᵀ C w_o − 2 w_oᵀ R_o + Σ centered y²: the error with the mean-correcting bias. */
    static double objective(SharingSet s, int m, double[] alpha, Map<ConvPlan, double[]> atoms,
                            Map<ConvPlan, double[]> cc, Map<ConvPlan, double[]> rc, double yyc) {
        double e = yyc;
        for (ConvPlan cp : s.members) {
            double[] w = kernelDouble(s, cp, m, alpha, atoms.get(cp));
            double[] c = cc.get(cp);
            double[] r = rc.get(cp);
            int outs = (int) cp.out;
            int d = w.length / outs;
            for (int o = 0; o < outs; o++) {
                int wo = o * d;
                double quad = 0;
                double lin = 0;
                for (int i = 0; i < d; i++) {
                    double wi = w[wo + i];
                    if (wi == 0) {
                        continue;
                    }
                    double acc = 0;
                    int ci = i * d;
                    for (int j = 0; j < d; j++) {
                        acc += c[ci + j] * w[wo + j];
                    }
                    quad += wi * acc;
                    lin += wi * r[i * outs + o];
                }
                e += quad - 2 * lin;
            }
        }
        return Math.max(0, e);
    }

    /** The dense kernel [O, I·k] of conv {@code cp} from α and its atoms. */
    static float[] kernel(SharingSet s, ConvPlan cp, int m, float[] alpha, float[] atoms) {
        return toFloat(kernelDouble(s, cp, m, toDouble(alpha), toDouble(atoms)));
    }

    static double[] kernelDouble(SharingSet s, ConvPlan cp, int m, double[] alpha, double[] atoms) {
        int k = s.kh * s.kw;
        int nbi = cp.nbi();
        int cols = cp.nbo() * nbi * k;
        int in = (int) cp.inPerGroup;
        double[] w = new double[(int) cp.out * in * k];
        for (int bo = 0; bo < cp.nbo(); bo++) {
            for (int bi = 0; bi < nbi; bi++) {
                int dcol = (bo * nbi + bi) * k;
                for (int op = 0; op < s.go; op++) {
                    for (int ip = 0; ip < s.gi; ip++) {
                        int ao = (op * s.gi + ip) * m;
                        int wo = ((bo * s.go + op) * in + bi * s.gi + ip) * k;
                        for (int j = 0; j < m; j++) {
                            double a = alpha[ao + j];
                            int dbase = j * cols + dcol;
                            for (int t = 0; t < k; t++) {
                                w[wo + t] += a * atoms[dbase + t];
                            }
                        }
                    }
                }
            }
        }
        return w;
    }

    private static Map<ConvPlan, double[]> copy(Map<ConvPlan, double[]> m) {
        Map<ConvPlan, double[]> c = new LinkedHashMap<>();
        m.forEach((k, v) -> c.put(k, v.clone()));
        return c;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
