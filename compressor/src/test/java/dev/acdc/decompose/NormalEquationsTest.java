package dev.acdc.decompose;

import dev.acdc.ir.Node;
import dev.acdc.linalg.Cholesky;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The output fit's normal equations, built by blocked, parallel multiply-adds, against the plain nested loops
 * that built them before (kept here as the oracle: one sum per entry, in index order): the same α, atoms,
 * gain and objective on random problems with several blocks per conv, two members of different widths,
 * square and 1-D kernels.
 */
class NormalEquationsTest {
    record Case(SharingSet set, Map<ConvPlan, double[]> c, Map<ConvPlan, double[]> r, Map<ConvPlan, double[]> atoms,
                double[] alpha, int m) {
    }

    static Case randomCase(long seed, int go, int gi, int kh, int kw, int m) {
        Random rnd = new Random(seed);
        int k = kh * kw;
        // two members: 2×3 and 1×2 blocks (out × in)
        ConvPlan a = plan("a", 2 * go, 3 * gi, kh, kw, go, gi);
        ConvPlan b = plan("b", go, 2 * gi, kh, kw, go, gi);
        SharingSet s = new SharingSet("s", go, gi, kh, kw, List.of(a, b), m);
        Map<ConvPlan, double[]> c = new LinkedHashMap<>();
        Map<ConvPlan, double[]> r = new LinkedHashMap<>();
        Map<ConvPlan, double[]> atoms = new LinkedHashMap<>();
        for (ConvPlan cp : s.members) {
            int d = (int) cp.inPerGroup * k;
            int rows = 3 * d;
            double[] p = new double[rows * d];
            for (int i = 0; i < p.length; i++) {
                p[i] = rnd.nextGaussian() + (i % d == 0 ? 0.3 : 0);
            }
            double[] cc = new double[d * d];
            for (int x = 0; x < d; x++) {
                for (int y = 0; y < d; y++) {
                    double v = 0;
                    for (int row = 0; row < rows; row++) {
                        v += p[row * d + x] * p[row * d + y];
                    }
                    cc[x * d + y] = v;
                }
            }
            double[] rr = new double[d * (int) cp.out];
            for (int i = 0; i < rr.length; i++) {
                rr[i] = rnd.nextGaussian() * 5;
            }
            double[] dd = new double[m * cp.nbo() * cp.nbi() * k];
            for (int i = 0; i < dd.length; i++) {
                dd[i] = rnd.nextGaussian();
            }
            c.put(cp, cc);
            r.put(cp, rr);
            atoms.put(cp, dd);
        }
        double[] alpha = new double[go * gi * m];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = rnd.nextGaussian();
        }
        return new Case(s, c, r, atoms, alpha, m);
    }

    static ConvPlan plan(String name, int out, int in, int kh, int kw, int go, int gi) {
        Node node = new Node(name, "Conv", List.of(name + ".x", name + ".w"), List.of(name + ".y"), List.of());
        return new ConvPlan(node, out, in, kh, kw, 1, new long[] {out, 4, 4}, null, "s", go, gi, 0, kw == 1 ? 1 : 2);
    }

    @Test
    void alphaAtomAndObjectiveStepsEqualThePlainLoopNormalEquations() {
        int[][] shapes = {{2, 3, 3, 3, 4}, {4, 2, 3, 1, 2}, {1, 5, 3, 3, 1}, {3, 3, 1, 1, 2}};
        for (int[] sh : shapes) {
            Case cs = randomCase(sh[0] * 31L + sh[1], sh[0], sh[1], sh[2], sh[3], sh[4]);
            SharingSet s = cs.set();
            String at = java.util.Arrays.toString(sh);
            double[] expected = referenceAlpha(s, cs.m(), cs.atoms(), cs.c(), cs.r());
            double[] actual = OutputFit.solveAlpha(s, cs.m(), cs.atoms(), cs.c(), cs.r());
            assertClose(expected, actual, 1e-9, "alpha " + at);
            for (ConvPlan cp : s.members) {
                double[] g1 = new double[1];
                double[] g2 = new double[1];
                double[] e = referenceAtoms(s, cp, cs.m(), cs.alpha(), cs.c().get(cp), cs.r().get(cp), g1);
                double[] a = OutputFit.solveAtoms(s, cp, cs.m(), cs.alpha(), cs.c().get(cp), cs.r().get(cp), g2);
                assertClose(e, a, 1e-9, "atoms " + at + " " + cp.node.name());
                assertEquals(g1[0], g2[0], 1e-9 * Math.abs(g1[0]), "gain " + at);
                assertTrue(g1[0] > 0, "the atom step lowers the objective");
            }
            double e = referenceObjective(s, cs.m(), cs.alpha(), cs.atoms(), cs.c(), cs.r(), 1e6);
            double a = OutputFit.objective(s, cs.m(), cs.alpha(), cs.atoms(), cs.c(), cs.r(), 1e6);
            assertEquals(e, a, 1e-10 * Math.abs(e), "objective " + at);
        }
    }

    @Test
    void balancingGivesEveryAtomUnitNormAndKeepsEveryKernel() {
        Case cs = randomCase(9, 2, 3, 3, 3, 4);
        SharingSet s = cs.set();
        Map<ConvPlan, double[]> atoms = new LinkedHashMap<>();
        cs.atoms().forEach((cp, d) -> {
            double[] x = d.clone();
            for (int i = 0; i < x.length; i++) {
                x[i] *= 1 + (i % cs.m()) * 3; // atoms of very different sizes, as drifting sweeps leave them
            }
            atoms.put(cp, x);
        });
        double[] alpha = cs.alpha().clone();
        Map<ConvPlan, double[]> before = new LinkedHashMap<>();
        for (ConvPlan cp : s.members) {
            before.put(cp, OutputFit.kernelDouble(s, cp, cs.m(), alpha, atoms.get(cp)));
        }
        OutputFit.balance(s, cs.m(), alpha, atoms);
        for (ConvPlan cp : s.members) {
            assertClose(before.get(cp), OutputFit.kernelDouble(s, cp, cs.m(), alpha, atoms.get(cp)), 1e-12, "kernel");
        }
        for (int j = 0; j < cs.m(); j++) {
            double sq = 0;
            for (double[] d : atoms.values()) {
                int cols = d.length / cs.m();
                for (int c = 0; c < cols; c++) {
                    sq += d[j * cols + c] * d[j * cols + c];
                }
            }
            assertEquals(1, sq, 1e-12, "atom " + j);
        }
    }

    static void assertClose(double[] expected, double[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(diff <= rel * scale, what + ": max diff " + diff + " of scale " + scale);
    }

    // ---- the plain-loop oracle: the normal equations as first written ----

    static double[] referenceAlpha(SharingSet s, int m, Map<ConvPlan, double[]> atoms, Map<ConvPlan, double[]> cc,
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
        double[] x = Cholesky.solve(l, n, rhs, go, OutputFit.RIDGE);
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

    static double[] referenceAtoms(SharingSet s, ConvPlan cp, int m, double[] alpha, double[] c, double[] r,
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
        Cholesky.Solution sol = Cholesky.solveWithRidge(lhs, n, rhs, nbo, OutputFit.RIDGE);
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

    static double referenceObjective(SharingSet s, int m, double[] alpha, Map<ConvPlan, double[]> atoms,
                            Map<ConvPlan, double[]> cc, Map<ConvPlan, double[]> rc, double yyc) {
        double e = yyc;
        for (ConvPlan cp : s.members) {
            double[] w = OutputFit.kernelDouble(s, cp, m, alpha, atoms.get(cp));
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
}
