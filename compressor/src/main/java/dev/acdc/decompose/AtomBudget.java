package dev.acdc.decompose;

import dev.acdc.AcdcException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-set atom counts under a size budget: each sharing set has a measured curve of options (an atom
 * count, or dense), each with its parameter count and the error it adds to the network's output
 * (the sensitivity analysis measures it with that set changed, the others dense or at a uniform count); the allocation picks one
 * option per set to minimise the summed error — the predicted output error, taking the sets' errors
 * as additive — subject to the summed parameters staying within the budget.
 *
 * <p>It is a multiple-choice knapsack, solved by dynamic programming over the budget in
 * {@value #STEPS} units: every option's size is rounded <em>up</em> to whole units, so the choice never
 * exceeds the budget, and it is the exact optimum whenever the sizes are whole units (tests check it
 * against exhaustive search).
 */
public final class AtomBudget {
    /** Budget resolution of the dynamic programme. */
    static final int STEPS = 4000;

    /** One option of a set: {@code atoms} ({@link Settings#DENSE}: kept dense), its parameters, its error. */
    public record Option(int atoms, long params, double error) {
    }

    private AtomBudget() {
    }

    /**
     * The option per set (in the curves' order) with the least summed error whose summed parameters are
     * at most {@code budget}. Fails with a message when even the smallest option of every set exceeds it.
     */
    public static Map<String, Option> allocate(Map<String, List<Option>> curves, long budget) {
        if (curves.isEmpty()) {
            return Map.of();
        }
        long least = 0;
        for (Map.Entry<String, List<Option>> e : curves.entrySet()) {
            if (e.getValue().isEmpty()) {
                throw new IllegalArgumentException("set " + e.getKey() + " has no option");
            }
            least += e.getValue().stream().mapToLong(Option::params).min().orElseThrow();
        }
        if (least > budget) {
            throw new AcdcException(String.format(java.util.Locale.ROOT, "the size target cannot be met: even one "
                    + "atom per set needs %,d parameters in the decomposed convolutions, the target leaves %,d",
                    least, Math.max(0, budget)));
        }
        long unit = Math.max(1, (budget + STEPS - 1) / STEPS);
        int cap = (int) (budget / unit);
        List<String> ids = new ArrayList<>(curves.keySet());
        int n = ids.size();
        // best[k][b]: least error of the first k sets within b units; pick[k][b]: the option of set k-1
        double[][] best = new double[n + 1][cap + 1];
        int[][] pick = new int[n + 1][cap + 1];
        for (int k = 1; k <= n; k++) {
            java.util.Arrays.fill(best[k], Double.POSITIVE_INFINITY);
            List<Option> opts = curves.get(ids.get(k - 1));
            for (int b = 0; b <= cap; b++) {
                for (int o = 0; o < opts.size(); o++) {
                    long units = (opts.get(o).params() + unit - 1) / unit;
                    if (units > b) {
                        continue;
                    }
                    double v = best[k - 1][(int) (b - units)] + opts.get(o).error();
                    if (v < best[k][b]) {
                        best[k][b] = v;
                        pick[k][b] = o;
                    }
                }
            }
        }
        if (best[n][cap] == Double.POSITIVE_INFINITY) {
            throw new AcdcException("the size target cannot be met at the budget's resolution; raise it slightly");
        }
        Map<String, Option> chosen = new LinkedHashMap<>();
        int b = cap;
        Option[] rev = new Option[n];
        for (int k = n; k >= 1; k--) {
            Option o = curves.get(ids.get(k - 1)).get(pick[k][b]);
            rev[k - 1] = o;
            b -= (int) ((o.params() + unit - 1) / unit);
        }
        for (int k = 0; k < n; k++) {
            chosen.put(ids.get(k), rev[k]);
        }
        return chosen;
    }

    /** Parameters of a set with {@code m} atoms (or dense with {@link Settings#DENSE}). */
    public static long params(SharingSet s, int m) {
        return m == Settings.DENSE ? s.denseParams() : (long) s.go * s.gi * m + (long) s.blocks() * m * s.kh * s.kw;
    }
}
