package dev.acdc.runtime.quantize;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * A slow, obviously correct interpreter of the operators a quantized CNN is made of (plain loops, doubles):
 * QuantizeLinear/DequantizeLinear exactly as the ONNX spec defines them (division and half-to-even
 * rounding in float), Conv, Add, Relu, Mul, Cast, GlobalAveragePool, Flatten, Gemm. The oracle ONNX
 * Runtime's fused int8 kernels are tested against.
 */
final class QdqReference {
    record Value(double[] v, long[] shape) {
        int dim(int i) {
            return (int) shape[i];
        }
    }

    private QdqReference() {
    }

    /** The graph's first output for input {@code x} of {@code shape}. */
    static Value run(Model m, double[] x, long[] shape) {
        Graph g = m.graph();
        Map<String, Value> env = new HashMap<>();
        for (Tensor t : g.initializers().values()) {
            env.put(t.name(), new Value(t.doubles(), t.shape()));
        }
        env.put(g.dataInputs().get(0).name(), new Value(x, shape));
        for (Node n : g.nodes()) {
            env.put(n.output(0), eval(n, env, g));
        }
        return env.get(g.outputs().get(0).name());
    }

    private static Value in(Node n, Map<String, Value> env, int i) {
        Value v = env.get(n.input(i));
        if (v == null) {
            throw new IllegalStateException(n.label() + " reads unknown " + n.input(i));
        }
        return v;
    }

    private static Value eval(Node n, Map<String, Value> env, Graph g) {
        switch (n.opType()) {
            case "QuantizeLinear", "DequantizeLinear" -> {
                Value x = in(n, env, 0);
                Value s = in(n, env, 1);
                Value z = n.inputs().size() > 2 ? in(n, env, 2) : null;
                int axis = (int) n.attrInt("axis", 1);
                long inner = 1;
                for (int i = axis + 1; i < x.shape().length; i++) {
                    inner *= x.shape()[i];
                }
                boolean q = n.is("QuantizeLinear");
                boolean unsigned = z == null || g.initializer(n.input(2)).type() == dev.acdc.ir.DataType.UINT8;
                double[] y = new double[x.v().length];
                for (int i = 0; i < y.length; i++) {
                    int c = s.v().length == 1 ? 0 : (int) ((i / inner) % s.v().length);
                    float scale = (float) s.v()[c];
                    double zp = z == null ? 0 : z.v()[c];
                    if (q) {
                        double r = Math.rint((float) x.v()[i] / scale) + zp;
                        y[i] = unsigned ? Math.max(0, Math.min(255, r)) : Math.max(-128, Math.min(127, r));
                    } else {
                        y[i] = (float) (x.v()[i] - zp) * scale;
                    }
                }
                return new Value(y, x.shape());
            }
            case "Cast" -> {
                return in(n, env, 0);
            }
            case "Mul", "Add", "Div" -> {
                Value a = in(n, env, 0);
                Value b = in(n, env, 1);
                double[] y = new double[a.v().length];
                // b broadcasts along whatever axes it has size 1 (right-aligned)
                for (int i = 0; i < y.length; i++) {
                    double bv = b.v()[broadcastIndex(i, a.shape(), b.shape())];
                    y[i] = n.is("Mul") ? a.v()[i] * bv : n.is("Div") ? (float) a.v()[i] / (float) bv : a.v()[i] + bv;
                }
                return new Value(y, a.shape());
            }
            case "Abs" -> {
                Value a = in(n, env, 0);
                double[] y = a.v().clone();
                for (int i = 0; i < y.length; i++) {
                    y[i] = Math.abs(y[i]);
                }
                return new Value(y, a.shape());
            }
            case "ReduceMax" -> { // over every axis but the first, not kept: a per-channel maximum
                Value a = in(n, env, 0);
                long[] axes = n.attrInts("axes", null);
                if (axes == null || axes.length != a.shape().length - 1 || axes[0] != 1 || n.attrInt("keepdims", 1) != 0) {
                    throw new IllegalStateException(n.label() + ": only a per-channel ReduceMax is interpreted");
                }
                int c = (int) a.shape()[0];
                int inner = a.v().length / c;
                double[] y = new double[c];
                java.util.Arrays.fill(y, Double.NEGATIVE_INFINITY);
                for (int i = 0; i < a.v().length; i++) {
                    y[i / inner] = Math.max(y[i / inner], a.v()[i]);
                }
                return new Value(y, new long[] {c});
            }
            case "Relu" -> {
                Value a = in(n, env, 0);
                double[] y = a.v().clone();
                for (int i = 0; i < y.length; i++) {
                    y[i] = Math.max(0, y[i]);
                }
                return new Value(y, a.shape());
            }
            case "Conv" -> {
                return conv(n, in(n, env, 0), in(n, env, 1), n.inputs().size() > 2 ? in(n, env, 2) : null);
            }
            case "GlobalAveragePool" -> {
                Value a = in(n, env, 0);
                int nb = a.dim(0);
                int c = a.dim(1);
                int hw = a.dim(2) * a.dim(3);
                double[] y = new double[nb * c];
                for (int i = 0; i < nb * c; i++) {
                    double s = 0;
                    for (int k = 0; k < hw; k++) {
                        s += a.v()[i * hw + k];
                    }
                    y[i] = s / hw;
                }
                return new Value(y, new long[] {nb, c, 1, 1});
            }
            case "Flatten" -> {
                Value a = in(n, env, 0);
                return new Value(a.v(), new long[] {a.shape()[0], a.v().length / a.shape()[0]});
            }
            case "Gemm" -> {
                Value a = in(n, env, 0);
                Value b = in(n, env, 1);
                Value c = n.inputs().size() > 2 ? in(n, env, 2) : null;
                boolean tb = n.attrInt("transB", 0) != 0;
                int rows = a.dim(0);
                int k = a.dim(1);
                int cols = tb ? b.dim(0) : b.dim(1);
                double[] y = new double[rows * cols];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        double s = c == null ? 0 : c.v()[j];
                        for (int l = 0; l < k; l++) {
                            s += a.v()[i * k + l] * (tb ? b.v()[j * k + l] : b.v()[l * cols + j]);
                        }
                        y[i * cols + j] = s;
                    }
                }
                return new Value(y, new long[] {rows, cols});
            }
            case "MatMul" -> {
                Value a = in(n, env, 0);
                Value b = in(n, env, 1);
                int rows = a.dim(0);
                int k = a.dim(1);
                int cols = b.dim(1);
                double[] y = new double[rows * cols];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        double s = 0;
                        for (int l = 0; l < k; l++) {
                            s += a.v()[i * k + l] * b.v()[l * cols + j];
                        }
                        y[i * cols + j] = s;
                    }
                }
                return new Value(y, new long[] {rows, cols});
            }
            case "Reshape" -> {
                Value a = in(n, env, 0);
                double[] target = in(n, env, 1).v();
                long[] shape = new long[target.length];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = (long) target[i];
                }
                return new Value(a.v(), shape);
            }
            case "Transpose" -> {
                Value a = in(n, env, 0);
                long[] perm = n.attrInts("perm", null);
                int r = a.shape().length;
                long[] shape = new long[r];
                for (int d = 0; d < r; d++) {
                    shape[d] = a.shape()[(int) perm[d]];
                }
                double[] y = new double[a.v().length];
                int[] coord = new int[r];
                for (int i = 0; i < y.length; i++) {
                    long rem = i;
                    for (int d = r - 1; d >= 0; d--) { // coordinates in the output
                        coord[d] = (int) (rem % shape[d]);
                        rem /= shape[d];
                    }
                    long src = 0;
                    long[] inCoord = new long[r];
                    for (int d = 0; d < r; d++) {
                        inCoord[(int) perm[d]] = coord[d];
                    }
                    for (int d = 0; d < r; d++) {
                        src = src * a.shape()[d] + inCoord[d];
                    }
                    y[i] = a.v()[(int) src];
                }
                return new Value(y, shape);
            }
            default -> throw new IllegalStateException("the reference has no " + n.opType());
        }
    }

    private static int broadcastIndex(int i, long[] a, long[] b) {
        int idx = 0;
        long rem = i;
        long stride = 1;
        int off = a.length - b.length;
        int[] coord = new int[a.length];
        for (int d = a.length - 1; d >= 0; d--) {
            coord[d] = (int) (rem % a[d]);
            rem /= a[d];
        }
        for (int d = b.length - 1; d >= 0; d--) {
            int cd = b[d] == 1 ? 0 : coord[d + off];
            idx += (int) (cd * stride);
            stride *= b[d];
        }
        return idx;
    }

    private static Value conv(Node n, Value x, Value w, Value b) {
        int nb = x.dim(0);
        int ci = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int co = w.dim(0);
        int kh = w.dim(2);
        int kw = w.dim(3);
        long[] pads = n.attrInts("pads", new long[] {0, 0, 0, 0});
        long[] strides = n.attrInts("strides", new long[] {1, 1});
        int oh = (int) ((h + pads[0] + pads[2] - kh) / strides[0] + 1);
        int ow = (int) ((wd + pads[1] + pads[3] - kw) / strides[1] + 1);
        double[] y = new double[nb * co * oh * ow];
        for (int i = 0; i < nb; i++) {
            for (int o = 0; o < co; o++) {
                for (int r = 0; r < oh; r++) {
                    for (int c = 0; c < ow; c++) {
                        double s = b == null ? 0 : b.v()[o];
                        for (int k = 0; k < ci; k++) {
                            for (int u = 0; u < kh; u++) {
                                for (int v = 0; v < kw; v++) {
                                    int yy = (int) (r * strides[0] + u - pads[0]);
                                    int xx = (int) (c * strides[1] + v - pads[1]);
                                    if (yy < 0 || yy >= h || xx < 0 || xx >= wd) {
                                        continue;
                                    }
                                    s += x.v()[((i * ci + k) * h + yy) * wd + xx] * w.v()[((o * ci + k) * kh + u) * kw + v];
                                }
                            }
                        }
                        y[((i * co + o) * oh + r) * ow + c] = s;
                    }
                }
            }
        }
        return new Value(y, new long[] {nb, co, oh, ow});
    }
}
