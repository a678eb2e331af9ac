package dev.acdc.decompose;

import dev.acdc.linalg.LowRank;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fitted factors of every sharing set: the shared coefficients α (go·gi × m) and, per
 * convolution, its blocks' atoms (m × S_conv·kh·kw, blocks in (bo, bi) order). Holds the SVD fits
 * for reporting and can rebuild any convolution's dense kernel.
 */
public final class Decomposition {
    private final Plan plan;
    private final Map<String, LowRank.Fit> fits;
    private final Map<String, float[]> alpha = new LinkedHashMap<>();
    private final Map<ConvPlan, float[]> atoms = new LinkedHashMap<>();
    private final Map<ConvPlan, Double> relErrors = new LinkedHashMap<>();
    private final Map<ConvPlan, Double> svdRelErrors = new LinkedHashMap<>();
    private final Map<ConvPlan, float[]> biases = new LinkedHashMap<>();
    private final Map<ConvPlan, OutputFit.ConvError> outputErrors = new LinkedHashMap<>();
    private final Map<String, List<Double>> objectives = new LinkedHashMap<>();

    private Decomposition(Plan plan, Map<String, LowRank.Fit> fits) {
        this.plan = plan;
        this.fits = fits;
    }

    /** Fits every set of the plan to the weights in {@code g}. */
    public static Decomposition fit(Plan plan, Graph g) {
        Map<String, LowRank.Fit> fits = new LinkedHashMap<>();
        Decomposition d = new Decomposition(plan, fits);
        for (SharingSet s : plan.sets()) {
            int r = s.go * s.gi;
            int k = s.kh * s.kw;
            int c = s.blocks() * k;
            double[] m = new double[r * c];
            int col = 0;
            for (ConvPlan cp : s.members) {
                float[] w = g.initializer(cp.node.input(1)).floats();
                col = gather(cp, w, m, c, col, s);
            }
            LowRank.Fit f = LowRank.fit(m, r, c, s.atoms);
            fits.put(s.id, f);
            d.alpha.put(s.id, toFloat(f.alpha()));
            int m0 = f.rank();
            col = 0;
            for (ConvPlan cp : s.members) {
                int cc = cp.blocks() * k;
                float[] a = new float[m0 * cc];
                for (int j = 0; j < m0; j++) {
                    for (int t = 0; t < cc; t++) {
                        a[j * cc + t] = (float) f.d()[j * c + col + t];
                    }
                }
                d.atoms.put(cp, a);
                col += cc;
                float[] w = g.initializer(cp.node.input(1)).floats();
                d.relErrors.put(cp, relError(w, d.kernel(cp)));
                d.svdRelErrors.put(cp, d.relErrors.get(cp));
            }
        }
        return d;
    }

    /** Copies conv {@code cp}'s blocks into columns [col, col + S·k) of M; returns the next column. */
    static int gather(ConvPlan cp, float[] w, double[] m, int c, int col, SharingSet s) {
        int k = s.kh * s.kw;
        long in = cp.inPerGroup;
        for (int bo = 0; bo < cp.nbo(); bo++) {
            for (int bi = 0; bi < cp.nbi(); bi++) {
                for (int o = 0; o < s.go; o++) {
                    for (int i = 0; i < s.gi; i++) {
                        int row = o * s.gi + i;
                        long src = (((long) bo * s.go + o) * in + (long) bi * s.gi + i) * k;
                        for (int t = 0; t < k; t++) {
                            m[row * c + col + t] = w[(int) (src + t)];
                        }
                    }
                }
                col += k;
            }
        }
        return col;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    static double relError(float[] w, float[] w2) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < w.length; i++) {
            double e = w[i] - w2[i];
            num += e * e;
            den += (double) w[i] * w[i];
        }
        return den == 0 ? 0 : Math.sqrt(num / den);
    }

    public Plan plan() {
        return plan;
    }

    public LowRank.Fit fit(String setId) {
        return fits.get(setId);
    }

    /** α of a set, (go·gi) × m row-major, rows ordered (o', i'). */
    public float[] coefficients(String setId) {
        return alpha.get(setId);
    }

    /** A conv's atoms, m × (nbo·nbi·kh·kw) row-major, columns ordered (bo, bi, tap). */
    public float[] atoms(ConvPlan cp) {
        return atoms.get(cp);
    }

    public double relError(ConvPlan cp) {
        return relErrors.get(cp);
    }

    /** The dense kernel α·D of a conv, [O, I/G, kh, kw] row-major, computed in float64. */
    public float[] kernel(ConvPlan cp) {
        SharingSet s = plan.set(cp.setId);
        float[] a = alpha.get(cp.setId);
        float[] d = atoms.get(cp);
        int m = a.length / (s.go * s.gi);
        int k = s.kh * s.kw;
        int cc = cp.blocks() * k;
        long in = cp.inPerGroup;
        float[] w = new float[(int) (cp.out * in * k)];
        // the atoms transposed, column by column, so the sum over atoms reads both factors in order; the blocks'
        // rows in parallel (each element is summed alone, in the same order: the same floats on any core count)
        float[] dt = new float[cc * m];
        for (int j = 0; j < m; j++) {
            for (int col = 0; col < cc; col++) {
                dt[col * m + j] = d[j * cc + col];
            }
        }
        java.util.stream.IntStream.range(0, cp.nbo()).parallel().forEach(bo -> {
            for (int bi = 0; bi < cp.nbi(); bi++) {
                int blockCol = (bo * cp.nbi() + bi) * k;
                for (int o = 0; o < s.go; o++) {
                    for (int i = 0; i < s.gi; i++) {
                        int row = (o * s.gi + i) * m;
                        long dst = (((long) bo * s.go + o) * in + (long) bi * s.gi + i) * k;
                        for (int t = 0; t < k; t++) {
                            int col = (blockCol + t) * m;
                            double v = 0;
                            for (int j = 0; j < m; j++) {
                                v += (double) a[row + j] * dt[col + j];
                            }
                            w[(int) (dst + t)] = (float) v;
                        }
                    }
                }
            }
        });
        return w;
    }

    /** The kernel as a tensor with the conv's weight shape. */
    public Tensor kernelTensor(ConvPlan cp, String name) {
        return Tensor.ofFloats(name, cp.kernel(), kernel(cp));
    }

    /**
     * Replaces set {@code r}'s factors by an output fit's, with the members' new biases; weight
     * errors are recomputed against {@code g}'s (original) kernels.
     */
    public void apply(SharingSet set, OutputFit.Result r, Graph g) {
        alpha.put(set.id, r.alpha().clone());
        for (ConvPlan cp : set.members) {
            atoms.put(cp, r.atoms().get(cp).clone());
            biases.put(cp, r.biases().get(cp).clone());
            outputErrors.put(cp, r.errors().get(cp));
            relErrors.put(cp, relError(g.initializer(cp.node.input(1)).floats(), kernel(cp)));
        }
        objectives.put(set.id, List.copyOf(r.objective()));
    }

    /** Replaces one member's atoms and bias by a sequential refit ({@link OutputFit#fitAtoms}); α stays. */
    public void applyConv(ConvPlan cp, OutputFit.Result r, Graph g) {
        atoms.put(cp, r.atoms().get(cp).clone());
        biases.put(cp, r.biases().get(cp).clone());
        outputErrors.put(cp, r.errors().get(cp));
        relErrors.put(cp, relError(g.initializer(cp.node.input(1)).floats(), kernel(cp)));
    }

    /** The bias an output fit gave a conv (length O), or null when it keeps its own. */
    public float[] bias(ConvPlan cp) {
        return biases.get(cp);
    }

    /** Relative weight error of the SVD fit (equal to {@link #relError} unless an output fit replaced it). */
    public double svdRelError(ConvPlan cp) {
        return svdRelErrors.get(cp);
    }

    /** Relative output error on the calibration images, SVD vs output fit; null without an output fit. */
    public OutputFit.ConvError outputError(ConvPlan cp) {
        return outputErrors.get(cp);
    }

    /** The output fit's objective per iteration for a set (first: at the SVD start), or null. */
    public List<Double> objective(String setId) {
        return objectives.get(setId);
    }

    public List<ConvPlan> convs() {
        return List.copyOf(atoms.keySet());
    }
}
