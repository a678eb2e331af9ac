package dev.acdc.decompose;

import dev.acdc.linalg.Cholesky;
import dev.acdc.linalg.Gemm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

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
    /** The first extrapolation step of the ALS (a fraction of the last change), and the most it grows to. */
    static final double EXTRAPOLATION = 0.5;
    static final double MAX_EXTRAPOLATION = 4;

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
        double[][] system = alphaSystem(s, m, members, atoms, cc, rc);
        double best = Math.max(0, yyc + quadratic(system, alpha, s.go));
        objective.add(best);
        double[] bestAlpha = alpha.clone();
        Map<ConvPlan, double[]> bestAtoms = copy(atoms);
        double beta = EXTRAPOLATION;
        Map<ConvPlan, double[]> previous = null;
        for (int it = 0; it < iterations; it++) {
            // from the second iteration on, start the sweep from the atoms moved on along their last change
            // (extrapolated ALS); kept only where the sweep then ends lower than the best so far, otherwise
            // the plain sweep is run and the step halves
            boolean extrapolated = previous != null && beta > 0;
            Sweep sw = sweep(s, m, extrapolated ? extrapolate(atoms, previous, beta) : atoms,
                    it == 0 ? system : null, cc, rc, yyc);
            if (extrapolated) {
                if (sw.e() < best) {
                    beta = Math.min(MAX_EXTRAPOLATION, beta * 1.5);
                } else {
                    beta /= 2;
                    sw = sweep(s, m, atoms, null, cc, rc, yyc);
                }
            }
            previous = atoms;
            atoms = sw.atoms();
            alpha = sw.alpha();
            double e = sw.e();
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
        balance(s, m, bestAlpha, bestAtoms);
        return result(s, m, stats, cs, alpha0, atoms0, bias0, bestAlpha, bestAtoms, objective);
    }

    /**
     * Gives every atom unit norm over the set's members, its scale moved into α's column (the kernels do not
     * change): the balance of the SVD start, which the sweeps — extrapolated ones most — let drift, and which
     * the gradient steps of block recovery and fine-tuning assume.
     */
    static void balance(SharingSet s, int m, double[] alpha, Map<ConvPlan, double[]> atoms) {
        for (int j = 0; j < m; j++) {
            double sq = 0;
            for (double[] d : atoms.values()) {
                int cols = d.length / m;
                for (int c = 0; c < cols; c++) {
                    sq += d[j * cols + c] * d[j * cols + c];
                }
            }
            double norm = Math.sqrt(sq);
            if (!(norm > 0) || !Double.isFinite(norm)) {
                continue;
            }
            for (double[] d : atoms.values()) {
                int cols = d.length / m;
                for (int c = 0; c < cols; c++) {
                    d[j * cols + c] /= norm;
                }
            }
            for (int r = j; r < alpha.length; r += m) {
                alpha[r] *= norm;
            }
        }
    }

    /** One ALS sweep's result: α, the atoms and E after them. */
    private record Sweep(double[] alpha, Map<ConvPlan, double[]> atoms, double e) {
    }

    /**
     * An α-step from {@code atoms} (its normal equations {@code system} when already built) and then every
     * member's atom step. The atom step ends the sweep, so E follows from its normal equations: with
     * (A + λI)u = b, uᵀAu − 2bᵀu = −bᵀu − λ‖u‖² — no pass over the statistics.
     */
    private static Sweep sweep(SharingSet s, int m, Map<ConvPlan, double[]> atoms, double[][] system,
                               Map<ConvPlan, double[]> cc, Map<ConvPlan, double[]> rc, double yyc) {
        double[] alpha = solveAlpha(s, m, system != null ? system : alphaSystem(s, m, s.members, atoms, cc, rc));
        Map<ConvPlan, double[]> next = new LinkedHashMap<>();
        double e = yyc;
        for (ConvPlan cp : s.members) {
            double[] gain = new double[1];
            next.put(cp, solveAtoms(s, cp, m, alpha, cc.get(cp), rc.get(cp), gain));
            e -= gain[0];
        }
        return new Sweep(alpha, next, Math.max(0, e));
    }

    /** atoms + β·(atoms − previous), member by member. */
    private static Map<ConvPlan, double[]> extrapolate(Map<ConvPlan, double[]> atoms, Map<ConvPlan, double[]> previous,
                                                       double beta) {
        Map<ConvPlan, double[]> out = new LinkedHashMap<>();
        atoms.forEach((cp, a) -> {
            double[] p = previous.get(cp);
            double[] x = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                x[i] = a[i] + beta * (a[i] - p[i]);
            }
            out.put(cp, x);
        });
        return out;
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
    static Result result(SharingSet s, int m, Map<ConvPlan, ConvStatistics> stats, Centered cs, float[] alpha0,
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
            errors.put(cp, new ConvError(Math.sqrt(error(s, m, cp, st, cs.c().get(cp), cs.r().get(cp), alpha0, atoms0.get(cp), w0,
                    bias0.get(cp)) / energy),
                    Math.sqrt(error(s, m, cp, st, cs.c().get(cp), cs.r().get(cp), a, d, w, b) / energy)));
        }
        return new Result(a, outAtoms, biases, errors, objective);
    }

    /**
     * {@link ConvStatistics#error} of member {@code cp}'s kernel {@code w} = α·D and bias {@code b}: for a
     * spatial set from the member's own α system (its centred error) plus the bias's distance from the
     * mean-correcting one, n·Σ_o (b*_o − b_o)²; for a pointwise set by the dense quadratic forms.
     */
    static double error(SharingSet s, int m, ConvPlan cp, ConvStatistics st, double[] cc, double[] rc, float[] alpha,
                        float[] atoms, float[] w, float[] b) {
        if (s.pointwise()) {
            return st.error(w, b);
        }
        Map<ConvPlan, double[]> one = Map.of(cp, toDouble(atoms));
        double[][] sys = alphaSystem(s, m, List.of(cp), one, Map.of(cp, cc), Map.of(cp, rc));
        return st.errorFromCentered(centeredEnergy(st) + quadratic(sys, toDouble(alpha), s.go), w, b);
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
        ConvError err = new ConvError(Math.sqrt(st.error(svdKernel, bias0) / energy),
                Math.sqrt(error(s, m, cp, st, cc, rc, alpha, d, w, b) / energy));
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
        return solveAlpha(s, m, alphaSystem(s, m, s.members, atoms, cc, rc));
    }

    /** The α-step from its normal equations ({@link #alphaSystem}). */
    static double[] solveAlpha(SharingSet s, int m, double[][] sys) {
        int gi = s.gi;
        int go = s.go;
        int n = gi * m;
        double[] rhsT = sys[1];
        double[] rhs = new double[go * n];
        for (int x = 0; x < n; x++) {
            for (int op = 0; op < go; op++) {
                rhs[op * n + x] = rhsT[x * go + op];
            }
        }
        double[] x = Cholesky.solve(sys[0], n, rhs, go, RIDGE);
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
     * The α normal equations of {@code members}: L (n×n, n = gi·m, unknowns ordered (i', j)) and the
     * right-hand sides transposed, rhsᵀ[(i', j), o']. For each member and output block bo, Z = C·Q_bo with
     * Z[row, (i', j)] = Σ_{bi,t} C[row, (bi·gi+i')·k + t]·D[j, (bo·nbi+bi)·k + t], then L += Q_boᵀ·Z. A row
     * (bi, i', t) of C only touches the rows (i', ·) of L, so the input channels i' are the parallel tasks;
     * each row of Z is built for all bo at once as contiguous multiply-adds of width nbo·m.
     */
    static double[][] alphaSystem(SharingSet s, int m, List<ConvPlan> members, Map<ConvPlan, double[]> atoms,
                                  Map<ConvPlan, double[]> cc, Map<ConvPlan, double[]> rc) {
        int gi = s.gi;
        int go = s.go;
        int k = s.kh * s.kw;
        int n = gi * m;
        double[] l = new double[n * n];
        double[] rhsT = new double[n * go];
        for (ConvPlan cp : members) {
            double[] c = cc.get(cp);
            double[] r = rc.get(cp);
            double[] dd = atoms.get(cp);
            int nbi = cp.nbi();
            int nbo = cp.nbo();
            int d = nbi * gi * k;
            int cols = nbo * nbi * k;
            int outs = (int) cp.out;
            int w = nbo * m;
            // dt[(bi, t), (bo, j)] = D[j, (bo·nbi + bi)·k + t]
            double[] dt = new double[nbi * k * w];
            for (int bo = 0; bo < nbo; bo++) {
                for (int bi = 0; bi < nbi; bi++) {
                    for (int t = 0; t < k; t++) {
                        for (int j = 0; j < m; j++) {
                            dt[(bi * k + t) * w + bo * m + j] = dd[j * cols + (bo * nbi + bi) * k + t];
                        }
                    }
                }
            }
            IntStream.range(0, gi).parallel().forEach(ip -> {
                double[] z = new double[gi * w];   // one row of Z for every bo: [i'][(bo, j)]
                double[] zb = new double[nbo * n]; // the same, [bo][(i', j)]
                for (int bi = 0; bi < nbi; bi++) {
                    for (int t = 0; t < k; t++) {
                        int row = (bi * gi + ip) * k + t;
                        Arrays.fill(z, 0);
                        int co = row * d;
                        for (int bi2 = 0; bi2 < nbi; bi2++) {
                            for (int ip2 = 0; ip2 < gi; ip2++) {
                                int cb = co + (bi2 * gi + ip2) * k;
                                for (int t2 = 0; t2 < k; t2++) {
                                    double cv = c[cb + t2];
                                    if (cv != 0) {
                                        Gemm.axpy(cv, dt, (bi2 * k + t2) * w, z, ip2 * w, w);
                                    }
                                }
                            }
                        }
                        for (int ip2 = 0; ip2 < gi; ip2++) {
                            for (int bo = 0; bo < nbo; bo++) {
                                System.arraycopy(z, ip2 * w + bo * m, zb, bo * n + ip2 * m, m);
                            }
                        }
                        int qo = (bi * k + t) * w;
                        for (int bo = 0; bo < nbo; bo++) {
                            int ro = row * outs + bo * go;
                            for (int j = 0; j < m; j++) {
                                double q = dt[qo + bo * m + j];
                                if (q == 0) {
                                    continue;
                                }
                                Gemm.axpy(q, zb, bo * n, l, (ip * m + j) * n, n);
                                Gemm.axpy(q, r, ro, rhsT, (ip * m + j) * go, go);
                            }
                        }
                    }
                }
            });
        }
        return new double[][] {l, rhsT};
    }

    /**
     * Σ_ℓ Σ_o (w_oᵀ C w_o − 2 w_oᵀ R_o) over the members whose α system {@code sys} is, for the kernels α·D
     * of the atoms it was built with: Σ_{o'} a_{o'}ᵀ L a_{o'} − 2 a_{o'}·rhs_{o'} (a_{o'} = α's row block o').
     * With the centred statistics plus the centred output energy this is the error with the mean-correcting
     * bias, at the cost of building the system instead of the d²·O of the dense quadratic forms.
     */
    static double quadratic(double[][] sys, double[] alpha, int go) {
        double[] l = sys[0];
        double[] rhsT = sys[1];
        int n = alpha.length / go;
        double[] la = new double[n];
        double e = 0;
        for (int op = 0; op < go; op++) {
            int ao = op * n;
            Arrays.fill(la, 0);
            for (int x = 0; x < n; x++) {
                double ax = alpha[ao + x];
                if (ax != 0) {
                    Gemm.axpy(ax, l, x * n, la, 0, n);
                }
            }
            for (int x = 0; x < n; x++) {
                e += alpha[ao + x] * (la[x] - 2 * rhsT[x * go + op]);
            }
        }
        return e;
    }

    /**
     * Atom step of one conv: for every output block bo, LHS·u_bo = rhs_bo with u = D[:, (bo, ·, ·)]
     * ordered (j, bi, t), LHS[(j1,bi1,t1),(j2,bi2,t2)] = Σ_{i1,i2} G[(i1,j1),(i2,j2)]·C[(bi1,i1,t1),(bi2,i2,t2)],
     * G = Σ_{o'} α_{o'}ᵀα_{o'} (the same for every bo). A row (bi1, i1, t1) of C only touches the rows
     * (·, bi1, t1) of LHS, so the pairs (bi1, t1) are the parallel tasks; each gathers C's row as
     * [i2][(bi2, t2)] so that every update is a contiguous multiply-add of width nbi·k.
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
        int nk = nbi * k;
        double[] g = new double[gm * gm];
        for (int op = 0; op < go; op++) {
            int ao = op * gi * m;
            for (int x = 0; x < gm; x++) {
                double ax = alpha[ao + x];
                if (ax != 0) {
                    Gemm.axpy(ax, alpha, ao, g, x * gm, gm);
                }
            }
        }
        int n = m * nk;
        double[] lhs = new double[n * n];
        IntStream.range(0, nk).parallel().forEach(task -> {
            int bi1 = task / k;
            int t1 = task % k;
            double[] cr = new double[gi * nk];
            for (int i1 = 0; i1 < gi; i1++) {
                int co = ((bi1 * gi + i1) * k + t1) * d;
                for (int bi2 = 0; bi2 < nbi; bi2++) {
                    for (int i2 = 0; i2 < gi; i2++) {
                        System.arraycopy(c, co + (bi2 * gi + i2) * k, cr, i2 * nk + bi2 * k, k);
                    }
                }
                for (int j1 = 0; j1 < m; j1++) {
                    int lo = (j1 * nk + task) * n;
                    int gRow = (i1 * m + j1) * gm;
                    for (int i2 = 0; i2 < gi; i2++) {
                        for (int j2 = 0; j2 < m; j2++) {
                            double gv = g[gRow + i2 * m + j2];
                            if (gv != 0) {
                                Gemm.axpy(gv, cr, i2 * nk, lhs, lo + j2 * nk, nk);
                            }
                        }
                    }
                }
            }
        });
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
                                rhs[bo * n + j * nk + bi * k + t] += alpha[ao + j] * rv;
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
            for (int j = 0; j < m; j++) {
                for (int bi = 0; bi < nbi; bi++) {
                    System.arraycopy(u, bo * n + j * nk + bi * k, atoms, j * cols + (bo * nbi + bi) * k, k);
                }
            }
        }
        return atoms;
    }

    /** Σ_ℓ Σ_o w_oᵀ C w_o − 2 w_oᵀ R_o + Σ centered y²: the error with the mean-correcting bias. */
    static double objective(SharingSet s, int m, double[] alpha, Map<ConvPlan, double[]> atoms,
                            Map<ConvPlan, double[]> cc, Map<ConvPlan, double[]> rc, double yyc) {
        if (!s.pointwise()) {
            return Math.max(0, yyc + quadratic(alphaSystem(s, m, s.members, atoms, cc, rc), alpha, s.go));
        }
        double e = yyc;
        for (ConvPlan cp : s.members) {
            double[] w = kernelDouble(s, cp, m, alpha, atoms.get(cp));
            double[] r = rc.get(cp);
            int outs = (int) cp.out;
            int d = w.length / outs;
            double[] quad = Gemm.quadraticForms(w, outs, d, cc.get(cp));
            for (int o = 0; o < outs; o++) {
                int wo = o * d;
                double lin = 0;
                for (int i = 0; i < d; i++) {
                    lin += w[wo + i] * r[i * outs + o];
                }
                e += quad[o] - 2 * lin;
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
        // atom j outermost within an output block: the atoms' row j and the kernel's rows are read and written
        // in order (a 1×1 conv's kernel of 2048×512 at 256 atoms took seconds with j innermost, striding by cols)
        IntStream.range(0, cp.nbo()).parallel().forEach(bo -> {
            for (int op = 0; op < s.go; op++) {
                for (int j = 0; j < m; j++) {
                    for (int bi = 0; bi < nbi; bi++) {
                        int dbase = j * cols + (bo * nbi + bi) * k;
                        for (int ip = 0; ip < s.gi; ip++) {
                            double a = alpha[(op * s.gi + ip) * m + j];
                            int wo = ((bo * s.go + op) * in + bi * s.gi + ip) * k;
                            for (int t = 0; t < k; t++) {
                                w[wo + t] += a * atoms[dbase + t];
                            }
                        }
                    }
                }
            }
        });
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
