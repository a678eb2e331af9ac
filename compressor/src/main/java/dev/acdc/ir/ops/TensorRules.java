package dev.acdc.ir.ops;

import dev.acdc.ir.OperatorRule;
import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.ConvTransposeGeometry;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeContext;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.ShapeInference.Facts;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Operators that move, cut, join or describe tensors: shapes, slices, gathers, constants, casts. */
public final class TensorRules {
    private TensorRules() {
    }

    static List<OperatorRule> rules() {
        List<OperatorRule> r = new ArrayList<>();
        OperatorRule.Shape identity = (c, n) -> {
            Facts f = c.in(n, 0);
            c.put(n.output(0), f);
            if (n.outputs().size() > 1 && f.shape() != null) {
                c.set(n, 1, DataType.BOOL, f.shape(), null);
            }
        };
        r.add(OperatorRule.unary("Identity", identity).folding());
        r.add(OperatorRule.of("Dropout", 1, 3, 1, 2, identity).withUpgrade((n, from, target, g, f) -> {
            if (from >= 12) {
                return 0;
            }
            n.removeAttribute("ratio");
            n.removeAttribute("is_test");
            return 1;
        }));
        r.add(OperatorRule.unary("Cast", (c, n) -> {
            DataType to = DataType.of((int) n.attrInt("to", 1));
            Facts f = c.in(n, 0);
            boolean intTarget = to.isNumeric() && to != DataType.FLOAT && to != DataType.FLOAT16 && to != DataType.DOUBLE;
            c.set(n, 0, to, f.shape(), intTarget ? f.ints() : null);
        }).folding());
        r.add(OperatorRule.of("Concat", 1, Integer.MAX_VALUE, 1, 1, TensorRules::concat).folding());
        r.add(OperatorRule.unary("Flatten", (c, n) -> {
            long[] x = c.shapeIn(n, 0);
            int axis = (int) n.attrInt("axis", 1);
            if (axis < 0) {
                axis += x.length;
            }
            c.set(n, 0, c.typeIn(n, 0), new long[] {prod(x, 0, axis), prod(x, axis, x.length)}, null);
        }));
        r.add(OperatorRule.of("Reshape", 1, 2, 1, 1, TensorRules::reshape).folding()); // opset < 5: shape attribute
        r.add(OperatorRule.unary("Transpose", (c, n) -> {
            long[] x = c.shapeIn(n, 0);
            long[] perm = n.attrInts("perm", null);
            long[] y = new long[x.length];
            int[] p = new int[x.length];
            for (int i = 0; i < x.length; i++) {
                p[i] = perm == null ? x.length - 1 - i : (int) perm[i];
                y[i] = x[p[i]];
            }
            Facts f = c.in(n, 0);
            c.set(n, 0, f.type(), y, f.ints() == null || !f.shapeKnown() ? null : transposeInts(f.ints(), x, p));
        }));
        r.add(OperatorRule.of("Pad", 1, 4, 1, 1, TensorRules::pad).withUpgrade((n, from, target, g, f) -> {
            if (from >= 11) {
                return 0;
            }
            GraphBuilder b = new GraphBuilder(g);
            long[] pads = n.attrInts("pads", n.attrInts("paddings", new long[0]));
            float value = n.attrFloat("value", 0f);
            n.setInputs(List.of(n.input(0), b.initializer(n.label() + "_pads", new long[] {pads.length}, pads),
                    b.initializer(n.label() + "_value", new long[0], new float[] {value})));
            n.removeAttribute("pads");
            n.removeAttribute("paddings");
            n.removeAttribute("value");
            return 1;
        }));
        r.add(OperatorRule.of("Slice", 1, 5, 1, 1, TensorRules::slice).folding().withUpgrade((n, from, target, g, f) -> {
            if (from >= 10) {
                return 0;
            }
            GraphBuilder b = new GraphBuilder(g);
            long[] starts = n.attrInts("starts", null);
            long[] ends = n.attrInts("ends", null);
            long[] axes = n.attrInts("axes", null);
            List<String> ins = new ArrayList<>(List.of(n.input(0),
                    b.initializer(n.label() + "_starts", new long[] {starts.length}, starts),
                    b.initializer(n.label() + "_ends", new long[] {ends.length}, ends)));
            if (axes != null) {
                ins.add(b.initializer(n.label() + "_axes", new long[] {axes.length}, axes));
            }
            n.setInputs(ins);
            n.removeAttribute("starts");
            n.removeAttribute("ends");
            n.removeAttribute("axes");
            return 1;
        }));
        r.add(OperatorRule.unary("Shape", (c, n) -> {
            long[] x = c.shapeIn(n, 0);
            int start = clampAxis((int) n.attrInt("start", 0), x.length);
            int end = clampAxis((int) n.attrInt("end", x.length), x.length);
            long[] v = new long[Math.max(0, end - start)];
            for (int i = 0; i < v.length; i++) {
                v[i] = x[start + i] < 0 ? ShapeInference.UNKNOWN : x[start + i];
            }
            c.set(n, 0, DataType.INT64, new long[] {v.length}, v);
        }).folding());
        r.add(OperatorRule.of("Gather", 2, 2, 1, 1, TensorRules::gather).folding());
        r.add(OperatorRule.of("Tile", 2, 2, 1, 1, (c, n) -> {
            long[] x = c.shapeIn(n, 0);
            long[] rep = c.constInts(n, 1, "the repeats");
            long[] y = x.clone();
            for (int i = 0; i < y.length; i++) {
                y[i] = x[i] < 0 ? -1 : x[i] * rep[i];
            }
            c.set(n, 0, c.typeIn(n, 0), y, null);
        }));
        r.add(OperatorRule.of("Split", 1, 2, 1, Integer.MAX_VALUE, (c, n) -> {
            long[] x = c.shapeIn(n, 0);
            int axis = clampAxis((int) n.attrInt("axis", 0), x.length);
            long[] sizes = splitSizes(c, n, x[axis]);
            for (int i = 0; i < n.outputs().size(); i++) {
                if (n.output(i).isEmpty()) {
                    continue;
                }
                long[] y = x.clone();
                y[axis] = sizes == null ? -1 : sizes[i];
                c.set(n, i, c.typeIn(n, 0), y, null);
            }
        }).withUpgrade((n, from, target, g, f) -> {
            if (from >= 13 || !n.has("split")) {
                return 0;
            }
            long[] split = n.attrInts("split", null);
            n.setInputs(List.of(n.input(0), new GraphBuilder(g).initializer(n.label() + "_split",
                    new long[] {split.length}, split)));
            n.removeAttribute("split");
            return 1;
        }));
        r.add(OperatorRule.of("Unsqueeze", 1, 2, 1, 1, TensorRules::unsqueeze).folding().withUpgrade(TensorRules::axesAsInput));
        r.add(OperatorRule.of("Squeeze", 1, 2, 1, 1, TensorRules::squeeze).folding().withUpgrade(TensorRules::axesAsInput));
        r.add(OperatorRule.of("Constant", 0, 0, 1, 1, (c, n) -> {
            Tensor t = ShapeInference.constantValue(n);
            c.set(n, 0, t.type(), t.shape(), c.tracked(t));
        }));
        r.add(OperatorRule.unary("ConstantOfShape", (c, n) -> {
            long[] shape = c.constInts(n, 0, "the shape");
            Attribute v = n.attribute("value");
            DataType t = v == null ? DataType.FLOAT : v.asTensor().type();
            long[] ints = null;
            if (t != DataType.FLOAT && t != DataType.FLOAT16 && t != DataType.DOUBLE
                    && Tensor.numel(shape) <= ShapeInference.MAX_TRACKED) {
                ints = new long[(int) Tensor.numel(shape)];
                Arrays.fill(ints, v == null ? 0 : v.asTensor().longs()[0]);
            }
            c.set(n, 0, t, shape, ints);
        }).folding());
        return r;
    }

    /**
     * The sizes of Split's outputs along its axis of size {@code dim}: the {@code split} input (the
     * attribute before opset 13), else equal parts — {@code num_outputs} of them from opset 18, the last
     * smaller when they do not divide — ; null when {@code dim} is unknown and no sizes are given.
     */
    public static long[] splitSizes(ShapeContext c, Node n, long dim) {
        long[] given = n.inputs().size() > 1 && !n.input(1).isEmpty() ? c.constInts(n, 1, "the split sizes")
                : n.attrInts("split", null);
        int parts = n.outputs().size();
        if (given != null) {
            if (given.length != parts) {
                throw new AcdcException("Split '" + n.label() + "': " + given.length + " sizes for " + parts + " outputs");
            }
            long sum = 0;
            for (long v : given) {
                sum += v;
            }
            if (dim >= 0 && sum != dim) {
                throw new AcdcException("Split '" + n.label() + "': sizes " + Arrays.toString(given) + " do not add up to "
                        + dim);
            }
            return given.clone();
        }
        if (dim < 0) {
            return null;
        }
        long each = (dim + parts - 1) / parts; // opset 18's num_outputs: ceil, the last part smaller
        if (n.attrInt("num_outputs", -1) < 0 && dim % parts != 0) {
            throw new AcdcException("Split '" + n.label() + "': " + dim + " is not divisible into " + parts + " equal parts");
        }
        long[] sizes = new long[parts];
        for (int i = 0; i < parts; i++) {
            sizes[i] = Math.max(0, Math.min(each, dim - i * each));
        }
        return sizes;
    }

    /** Unsqueeze and Squeeze took their axes as an attribute before opset 13, an input from 13. */
    static int axesAsInput(Node n, long from, long target, dev.acdc.ir.Graph g, java.util.Map<String, Facts> f) {
        if (from >= 13 || !n.has("axes")) {
            return 0;
        }
        long[] axes = n.attrInts("axes", null);
        n.setInputs(List.of(n.input(0), new GraphBuilder(g).initializer(n.label() + "_axes", new long[] {axes.length}, axes)));
        n.removeAttribute("axes");
        return 1;
    }

    static void concat(ShapeContext c, Node n) {
        long axisAttr = n.attrInt("axis", 0);
        long[] first = c.shapeIn(n, 0);
        int axis = (int) (axisAttr < 0 ? axisAttr + first.length : axisAttr);
        long[] y = first.clone();
        List<Long> ints = new ArrayList<>();
        boolean track = true;
        for (int i = 0; i < n.inputs().size(); i++) {
            long[] s = c.shapeIn(n, i);
            if (i > 0) {
                y[axis] = y[axis] < 0 || s[axis] < 0 ? -1 : y[axis] + s[axis];
            }
            Facts f = c.in(n, i);
            if (f.ints() == null) {
                track = false;
            } else {
                for (long v : f.ints()) {
                    ints.add(v);
                }
            }
        }
        long[] iv = null;
        if (track && y.length == 1) {
            iv = ints.stream().mapToLong(Long::longValue).toArray();
        }
        c.set(n, 0, c.typeIn(n, 0), y, iv);
    }

    static void reshape(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] spec;
        if (n.inputs().size() > 1 && !n.input(1).isEmpty()) {
            Facts f = c.in(n, 1);
            if (f.ints() == null) {
                throw new AcdcException("Reshape '" + n.label() + "': target shape '" + n.input(1) + "' is not known");
            }
            spec = f.ints();
        } else {
            spec = n.attrInts("shape", null);
            if (spec == null) {
                throw new AcdcException("Reshape '" + n.label() + "' has no target shape");
            }
        }
        boolean allowZero = n.attrInt("allowzero", 0) != 0;
        long[] y = new long[spec.length];
        int minus = -1;
        for (int i = 0; i < spec.length; i++) {
            long v = spec[i];
            if (v == ShapeInference.UNKNOWN) {
                // a dim computed at run time from the input's shape: the batch when it is the leading one
                y[i] = i == 0 && x.length > 0 ? x[0] : -1;
            } else if (v == 0 && !allowZero) {
                y[i] = i < x.length ? x[i] : -1;
            } else if (v == -1) {
                minus = i;
                y[i] = -1;
            } else {
                y[i] = v;
            }
        }
        if (minus >= 0) {
            long total = 1;
            boolean known = true;
            for (int i = 0; i < x.length; i++) {
                if (x[i] < 0) {
                    // a symbolic dim cancels when it lands in the same place
                    if (i < y.length && y[i] < 0 && i != minus) {
                        continue;
                    }
                    known = false;
                } else {
                    total *= x[i];
                }
            }
            long rest = 1;
            for (int i = 0; i < y.length; i++) {
                if (i != minus) {
                    if (y[i] < 0) {
                        if (!(i < x.length && x[i] < 0)) {
                            known = false;
                        }
                    } else {
                        rest *= y[i];
                    }
                }
            }
            if (known && rest > 0) {
                if (total % rest != 0) {
                    throw new AcdcException("Reshape '" + n.label() + "': cannot reshape " + Arrays.toString(x) + " to "
                            + Arrays.toString(spec));
                }
                y[minus] = total / rest;
            }
        }
        Facts f0 = c.in(n, 0);
        c.set(n, 0, f0.type(), y, f0.ints());
    }

    static void pad(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] pads = c.opset() < 11 ? n.attrInts("pads", null) : c.constInts(n, 1, "the pads");
        if (pads == null) {
            throw new AcdcException("Pad '" + n.label() + "' has no pads");
        }
        long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? c.constInts(n, 3, "the axes") : null;
        long[] y = x.clone();
        int k = axes == null ? x.length : axes.length;
        for (int j = 0; j < k; j++) {
            int ax = axes == null ? j : clampAxis((int) axes[j], x.length);
            if (y[ax] >= 0) {
                y[ax] += pads[j] + pads[j + k];
            }
        }
        c.set(n, 0, c.typeIn(n, 0), y, null);
    }

    static void slice(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (c.opset() < 10) {
            starts = n.attrInts("starts", null);
            ends = n.attrInts("ends", null);
            axes = n.attrInts("axes", null);
        } else {
            starts = c.constInts(n, 1, "the starts");
            ends = c.constInts(n, 2, "the ends");
            axes = n.inputs().size() > 3 ? c.constInts(n, 3, "the axes") : null;
            steps = n.inputs().size() > 4 ? c.constInts(n, 4, "the steps") : null;
        }
        long[] y = x.clone();
        Facts f = c.in(n, 0);
        long[] first = new long[x.length];
        long[] stride = new long[x.length];
        java.util.Arrays.fill(stride, 1);
        for (int j = 0; j < starts.length; j++) {
            int ax = axes == null ? j : clampAxis((int) axes[j], x.length);
            long step = steps == null ? 1 : steps[j];
            long dim = x[ax];
            if (dim < 0) {
                y[ax] = -1;
                continue;
            }
            long[] range = sliceRange(starts[j], ends[j], step, dim);
            y[ax] = range[2];
            first[ax] = range[0];
            stride[ax] = step;
        }
        long[] ints = null;
        if (f.ints() != null && f.shapeKnown()) {
            ints = new long[(int) Tensor.numel(y)];
            long[] idx = new long[y.length];
            for (int k = 0; k < ints.length; k++) {
                long src = 0;
                for (int d = 0; d < y.length; d++) {
                    src = src * x[d] + first[d] + idx[d] * stride[d];
                }
                ints[k] = f.ints()[(int) src];
                for (int d = y.length - 1; d >= 0; d--) {
                    if (++idx[d] < y[d]) {
                        break;
                    }
                    idx[d] = 0;
                }
            }
        }
        c.set(n, 0, f.type(), y, ints);
    }

    static long[] transposeInts(long[] v, long[] shape, int[] perm) {
        int r = shape.length;
        long[] ys = new long[r];
        for (int i = 0; i < r; i++) {
            ys[i] = shape[perm[i]];
        }
        long[] strides = new long[r];
        long acc = 1;
        for (int d = r - 1; d >= 0; d--) {
            strides[d] = acc;
            acc *= shape[d];
        }
        long[] out = new long[v.length];
        long[] idx = new long[r];
        for (int k = 0; k < out.length; k++) {
            long src = 0;
            for (int d = 0; d < r; d++) {
                src += idx[d] * strides[perm[d]];
            }
            out[k] = v[(int) src];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < ys[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    /** {start, end, count} of an ONNX Slice along a dim of size {@code dim}. */
    public static long[] sliceRange(long start, long end, long step, long dim) {
        if (step == 0) {
            throw new AcdcException("Slice step 0");
        }
        if (start < 0) {
            start += dim;
        }
        if (end < 0) {
            end += dim;
        }
        long count;
        if (step > 0) {
            start = Math.max(0, Math.min(start, dim));
            end = Math.max(0, Math.min(end, dim));
            count = Math.max(0, (end - start + step - 1) / step);
        } else {
            start = Math.max(-1, Math.min(start, dim - 1));
            end = Math.max(-1, Math.min(end, dim - 1));
            count = Math.max(0, (start - end + (-step) - 1) / (-step));
        }
        return new long[] {start, end, count};
    }

    static void gather(ShapeContext c, Node n) {
        long[] data = c.shapeIn(n, 0);
        long[] idx = c.shapeIn(n, 1);
        int axis = clampAxis((int) n.attrInt("axis", 0), data.length);
        long[] y = new long[data.length - 1 + idx.length];
        int k = 0;
        for (int i = 0; i < axis; i++) {
            y[k++] = data[i];
        }
        for (long d : idx) {
            y[k++] = d;
        }
        for (int i = axis + 1; i < data.length; i++) {
            y[k++] = data[i];
        }
        Facts fd = c.in(n, 0);
        Facts fi = c.in(n, 1);
        long[] ints = null;
        if (data.length == 1 && fd.ints() != null && fi.fullyKnownInts()) {
            ints = new long[fi.ints().length];
            for (int i = 0; i < ints.length; i++) {
                long j = fi.ints()[i] < 0 ? fi.ints()[i] + fd.ints().length : fi.ints()[i];
                if (j < 0 || j >= fd.ints().length) {
                    throw new AcdcException("Gather '" + n.label() + "': index " + fi.ints()[i] + " out of range");
                }
                ints[i] = fd.ints()[(int) j];
            }
        }
        c.set(n, 0, fd.type(), y, ints);
    }

    static long[] axesOf(ShapeContext c, Node n) {
        if (c.opset() < 13 || n.inputs().size() < 2 || n.input(1).isEmpty()) {
            return n.attrInts("axes", null);
        }
        return c.constInts(n, 1, "the axes");
    }

    static void unsqueeze(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] axes = axesOf(c, n);
        if (axes == null) {
            throw new AcdcException("Unsqueeze '" + n.label() + "' has no axes");
        }
        int r = x.length + axes.length;
        boolean[] added = new boolean[r];
        for (long a : axes) {
            added[clampAxis((int) a, r)] = true;
        }
        long[] y = new long[r];
        int k = 0;
        for (int i = 0; i < r; i++) {
            y[i] = added[i] ? 1 : x[k++];
        }
        Facts f = c.in(n, 0);
        c.set(n, 0, f.type(), y, f.ints());
    }

    static void squeeze(ShapeContext c, Node n) {
        long[] x = c.shapeIn(n, 0);
        long[] axes = axesOf(c, n);
        boolean[] drop = new boolean[x.length];
        if (axes == null) {
            for (int i = 0; i < x.length; i++) {
                drop[i] = x[i] == 1;
            }
        } else {
            for (long a : axes) {
                drop[clampAxis((int) a, x.length)] = true;
            }
        }
        List<Long> y = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (!drop[i]) {
                y.add(x[i]);
            }
        }
        Facts f = c.in(n, 0);
        c.set(n, 0, f.type(), y.stream().mapToLong(Long::longValue).toArray(), f.ints());
    }

    static int clampAxis(int a, int rank) {
        return a < 0 ? Math.max(0, a + rank) : Math.min(a, rank);
    }

    static long prod(long[] s, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            if (s[i] < 0) {
                return -1;
            }
            p *= s[i];
        }
        return p;
    }
}
