package dev.acdc.data;

import dev.acdc.AcdcException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded subsets of a data set. With labels the sample is stratified: each class gets its share of
 * {@code n} in proportion to its count (largest remainders break ties, lower class first), drawn
 * uniformly within the class; without labels it is a uniform sample without replacement. Data sets
 * ordered by class (test-jpeg, {@code folder:}) therefore give every class, not the first few.
 */
public final class Sampling {
    private Sampling() {
    }

    /** A subset: indices in increasing order, and how many of each class (empty without labels). */
    public record Subset(int[] indices, int[] perClass) {
        public int size() {
            return indices.length;
        }

        /** e.g. "512 images, stratified over 10 classes (51-52 each)". */
        public String describe() {
            if (perClass.length == 0) {
                return indices.length + " images, uniform sample (no labels)";
            }
            int lo = Integer.MAX_VALUE;
            int hi = 0;
            int present = 0;
            for (int c : perClass) {
                if (c > 0) {
                    present++;
                    lo = Math.min(lo, c);
                    hi = Math.max(hi, c);
                }
            }
            return indices.length + " images, stratified over " + present + " classes ("
                    + (lo == hi ? lo + "" : lo + "-" + hi) + " each)";
        }
    }

    /** {@code n} of {@code data}'s images (all of them when n ≥ its size), seeded, stratified when labelled. */
    public static Subset sample(Dataset data, int n, long seed) {
        if (n <= 0) {
            throw new AcdcException("a sample needs at least 1 image, got " + n);
        }
        int size = data.size();
        if (size == 0) {
            throw new AcdcException("the data set is empty: " + data.describe());
        }
        if (!data.hasLabels()) {
            return uniform(size, n, seed);
        }
        return stratified(data.labels(), n, seed);
    }

    static Subset uniform(int size, int n, long seed) {
        int[] all = permutation(size, new Random(seed));
        int[] pick = Arrays.copyOf(all, Math.min(n, size));
        Arrays.sort(pick);
        return new Subset(pick, new int[0]);
    }

    /** Stratified sample of {@code n} indices over {@code labels} (non-negative class ids). */
    public static Subset stratified(int[] labels, int n, long seed) {
        int classes = 0;
        for (int l : labels) {
            if (l < 0) {
                throw new AcdcException("label " + l + " is negative");
            }
            classes = Math.max(classes, l + 1);
        }
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            byClass.get(labels[i]).add(i);
        }
        int total = labels.length;
        int want = Math.min(n, total);
        int[] quota = new int[classes];
        double[] rem = new double[classes];
        int given = 0;
        for (int c = 0; c < classes; c++) {
            double exact = (double) want * byClass.get(c).size() / total;
            quota[c] = (int) Math.floor(exact);
            rem[c] = exact - quota[c];
            given += quota[c];
        }
        while (given < want) {
            int best = -1;
            for (int c = 0; c < classes; c++) {
                if (quota[c] < byClass.get(c).size() && (best < 0 || rem[c] > rem[best])) {
                    best = c;
                }
            }
            quota[best]++;
            rem[best] = -1;
            given++;
        }
        Random r = new Random(seed);
        int[] pick = new int[want];
        int k = 0;
        for (int c = 0; c < classes; c++) {
            List<Integer> members = byClass.get(c);
            int[] perm = permutation(members.size(), r);
            for (int j = 0; j < quota[c]; j++) {
                pick[k++] = members.get(perm[j]);
            }
        }
        Arrays.sort(pick);
        return new Subset(pick, quota);
    }

    /** A uniformly random permutation of 0..n-1 (Fisher–Yates, drawing from the end). */
    public static int[] permutation(int n, Random r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
