package dev.acdc.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingTest {

    /** 1 000 images ordered by class, as test-jpeg and folder: data are: 500 of class 0, 300 of 1, 200 of 2. */
    private static int[] orderedLabels() {
        int[] l = new int[1000];
        Arrays.fill(l, 500, 800, 1);
        Arrays.fill(l, 800, 1000, 2);
        return l;
    }

    @Test
    void stratifiedSampleKeepsEveryClassInProportion() {
        int[] labels = orderedLabels();
        Sampling.Subset s = Sampling.stratified(labels, 100, 7);
        assertEquals(100, s.size());
        assertArrayEquals(new int[] {50, 30, 20}, s.perClass());
        int[] counted = new int[3];
        Set<Integer> seen = new HashSet<>();
        for (int i : s.indices()) {
            counted[labels[i]]++;
            assertTrue(seen.add(i), "index " + i + " drawn twice");
        }
        assertArrayEquals(new int[] {50, 30, 20}, counted);
        for (int i = 1; i < s.size(); i++) {
            assertTrue(s.indices()[i - 1] < s.indices()[i], "indices are sorted");
        }
        // the first 100 (what --limit used to take) would have been class 0 only
        assertFalse(Arrays.stream(s.indices()).allMatch(i -> i < 100));
    }

    @Test
    void remaindersGoToTheLargestFractionsAndTheSampleIsSeeded() {
        int[] labels = orderedLabels();
        // 7 × (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4 → floors 3, 2, 1 and the one left goes to class 0 (0.5 > 0.4 > 0.1)
        assertArrayEquals(new int[] {4, 2, 1}, Sampling.stratified(labels, 7, 1).perClass());
        assertArrayEquals(Sampling.stratified(labels, 50, 3).indices(), Sampling.stratified(labels, 50, 3).indices());
        assertFalse(Arrays.equals(Sampling.stratified(labels, 50, 3).indices(), Sampling.stratified(labels, 50, 4).indices()));
        assertEquals(1000, Sampling.stratified(labels, 5000, 1).size(), "all of them when asked for more");
    }

    @Test
    void unlabelledDataGetAUniformSampleWithoutReplacement() {
        Sampling.Subset s = Sampling.uniform(300, 120, 9);
        assertEquals(120, s.size());
        assertEquals(120, Arrays.stream(s.indices()).distinct().count());
        assertEquals(0, s.perClass().length);
        assertTrue(s.describe().contains("uniform"));
        // a labelled data set read through the interface is stratified
        SyntheticDataset d = new SyntheticDataset(200, 1, 2, 2, 4, 5);
        int[] read = new int[200];
        d.read(0, 200, new byte[200 * 4], read);
        assertArrayEquals(read, d.labels(), "the default labels() reads what read() gives");
        Sampling.Subset t = Sampling.sample(d, 40, 1);
        assertEquals(40, t.size());
        assertEquals(4, t.perClass().length);
        assertTrue(t.describe().startsWith("40 images, stratified over 4 classes"), t.describe());
    }
}
