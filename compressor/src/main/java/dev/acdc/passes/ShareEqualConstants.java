package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes equal constants one initializer: readers of a later copy read the first. An ACDC model holds
 * one {@code Reshape} target per conv, an exporter one scalar per use, a quantized model one zero-point
 * vector per layer, most of them equal. Only integer tensors and float scalars (float, half, double) are shared: a float
 * tensor of several values is a weight, which fine-tuning must be able to change on its own. Requires
 * a well-formed graph; ensures no two such initializers of equal type, shape and values, except those
 * a graph input or output names (the model's interface).
 */
public final class ShareEqualConstants implements Pass {
    @Override
    public String name() {
        return "share-equal-constants";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        Graph g = m.graph();
        Set<String> fixed = new HashSet<>();
        for (ValueInfo v : g.inputs()) {
            fixed.add(v.name());
        }
        for (ValueInfo v : g.outputs()) {
            fixed.add(v.name());
        }
        Map<Key, String> first = new HashMap<>();
        int changed = 0;
        for (Tensor t : new ArrayList<>(g.initializers().values())) {
            boolean weight = (t.type() == dev.acdc.ir.DataType.FLOAT || t.type() == dev.acdc.ir.DataType.FLOAT16
                    || t.type() == dev.acdc.ir.DataType.DOUBLE) && t.numel() > 1;
            if (!t.isDecoded() || weight || fixed.contains(t.name())) {
                continue;
            }
            String kept = first.putIfAbsent(new Key(t), t.name());
            if (kept != null) {
                g.replaceUses(t.name(), kept);
                changed++;
            }
        }
        g.removeUnusedInitializers();
        return changed;
    }

    /** Type, shape and values: equal keys are interchangeable constants. */
    private record Key(Tensor t) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.t.type() == t.type() && Arrays.equals(k.t.shape(), t.shape())
                    && valuesEqual(k.t, t);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * t.type().hashCode() + Arrays.hashCode(t.shape())) + valuesHash(t);
        }

        private static boolean valuesEqual(Tensor a, Tensor b) {
            return switch (a.type()) {
                // bit patterns: NaN equals NaN, and -0 is not 0 (a reader could tell them apart)
                case FLOAT, FLOAT16 -> Arrays.equals(bits(a.floats()), bits(b.floats()));
                case DOUBLE -> Arrays.equals(a.doubles(), b.doubles());
                default -> Arrays.equals(a.longs(), b.longs());
            };
        }

        private static int valuesHash(Tensor a) {
            return switch (a.type()) {
                case FLOAT, FLOAT16 -> Arrays.hashCode(bits(a.floats()));
                case DOUBLE -> Arrays.hashCode(a.doubles());
                default -> Arrays.hashCode(a.longs());
            };
        }

        private static int[] bits(float[] f) {
            int[] b = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                b[i] = Float.floatToRawIntBits(f[i]);
            }
            return b;
        }
    }
}
