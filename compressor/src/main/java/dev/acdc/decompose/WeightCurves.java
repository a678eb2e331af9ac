package dev.acdc.decompose;

import dev.acdc.ir.Graph;
import dev.acdc.linalg.LowRank;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each sharing set's <em>weight-error</em> curve, the data-free predictor of {@link AtomBudget}: for
 * every atom count m from 1 to the largest whose factors are still smaller than the dense kernels, the
 * SVD fit's error summed over the set's convolutions, each relative to its own kernel's energy,
 * {@code Σ_c ‖W_c − Ŵ_c(m)‖² / ‖W_c‖²}; keeping the set dense is the option with error 0.
 *
 * <p>One SVD per set gives every m: with {@code M = Σ_i σ_i u_i v_iᵀ} and the u_i orthonormal, the
 * rank-m fit's error on the columns of conv c is {@code ‖M_c‖² − Σ_{i≤m} σ_i² ‖v_{i,c}‖²} (Eckart–Young
 * per column block). Summing relative errors treats every convolution as equally important whatever
 * its width — the measured reason it beats uniform atoms: a 16-wide early conv is near-exact with a
 * few atoms and cheap to keep so, while the 64-wide convs' error falls slowly per parameter spent.
 */
public final class WeightCurves {
    /** How the convolutions' relative errors are summed. */
    public enum Weighting {
        /** Each conv counts once, whatever its size: {@code Σ_c e_c}. */
        PER_CONV,
        /**
         * Each conv counts by its number of kernel weights, {@code Σ_c |W_c| e_c}: every weight of the
         * network is equally important, so the wide convs' errors outweigh the narrow ones'.
         */
        PER_WEIGHT
    }

    private WeightCurves() {
    }

    /** The {@link Weighting#PER_CONV} curve of every set of {@code plan} (in its order), from the weights in {@code g}. */
    public static Map<String, List<AtomBudget.Option>> of(Plan plan, Graph g) {
        return of(plan, g, Weighting.PER_CONV);
    }

    /** The curve of every set of {@code plan} (in its order) under {@code w}; options by size, dense last. */
    public static Map<String, List<AtomBudget.Option>> of(Plan plan, Graph g, Weighting w) {
        Map<String, List<AtomBudget.Option>> curves = new LinkedHashMap<>();
        for (SharingSet s : plan.sets()) {
            curves.put(s.id, curve(s, g, w));
        }
        return curves;
    }

    /** The largest atom count whose factors have fewer parameters than the set's dense kernels (at least 1). */
    static int largestUseful(SharingSet s) {
        int m = 1;
        while (m < s.maxAtoms() && AtomBudget.params(s, m + 1) < s.denseParams()) {
            m++;
        }
        return m;
    }

    static List<AtomBudget.Option> curve(SharingSet s, Graph g, Weighting w) {
        int r = s.go * s.gi;
        int k = s.kh * s.kw;
        int c = s.blocks() * k;
        double[] m = new double[r * c];
        int col = 0;
        int n = s.members.size();
        int[] from = new int[n + 1];
        for (int j = 0; j < n; j++) {
            from[j] = col;
            col = Decomposition.gather(s.members.get(j), g.initializer(s.members.get(j).node.input(1)).floats(), m, c,
                    col, s);
        }
        from[n] = col;
        int top = largestUseful(s);
        LowRank.Fit f = LowRank.fit(m, r, c, top);
        double[] energy = new double[n];
        for (int row = 0; row < r; row++) {
            for (int j = 0; j < n; j++) {
                for (int t = from[j]; t < from[j + 1]; t++) {
                    energy[j] += m[row * c + t] * m[row * c + t];
                }
            }
        }
        double[] captured = new double[n];
        List<AtomBudget.Option> out = new ArrayList<>();
        for (int i = 0; i < f.rank(); i++) {
            double s2 = f.sigma()[i] * f.sigma()[i];
            double error = 0;
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int t = from[j]; t < from[j + 1]; t++) {
                    v += f.d()[i * c + t] * f.d()[i * c + t];
                }
                captured[j] += s2 * v;
                double weight = w == Weighting.PER_CONV ? 1 : (double) r * (from[j + 1] - from[j]);
                error += energy[j] == 0 ? 0 : weight * Math.max(0, energy[j] - captured[j]) / energy[j];
            }
            out.add(new AtomBudget.Option(i + 1, AtomBudget.params(s, i + 1), error));
        }
        out.add(new AtomBudget.Option(Settings.DENSE, s.denseParams(), 0));
        return out;
    }
}
