package dev.acdc.testing;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;

import java.util.List;
import java.util.Random;

/** Tiny models built in code for tests (as ONNX Runtime's Java tests do). */
public final class ModelGenerators {
    private ModelGenerators() {
    }

    public static float[] randn(Random r, int n, double scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * scale);
        }
        return f;
    }

    public static float[] positive(Random r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = 0.5f + r.nextFloat();
        }
        return f;
    }

    /**
     * A small residual CNN on [N,c,s,s]: stem conv (c→w), one residual block of two 3x3 convs (w→w,
     * each followed by BatchNormalization), Add, Relu, GlobalAveragePool, Flatten, Gemm → classes.
     */
    public static Model residual(int c, int s, int w, int classes, long seed) {
        GraphBuilder b = GraphBuilder.create("tiny_residual");
        return residualBody(b, new Random(seed), b.input("input", DataType.FLOAT, -1, c, s, s), c, w, classes);
    }

    /**
     * {@link #residual} as tf2onnx writes a Keras model: the input is channels-last [N,s,s,c] and a Transpose
     * (perm 0,3,1,2) makes it [N,c,s,s] for the convs.
     */
    public static Model residualChannelsLast(int c, int s, int w, int classes, long seed) {
        GraphBuilder b = GraphBuilder.create("tiny_residual_nhwc");
        String x = b.input("input", DataType.FLOAT, -1, s, s, c);
        String t = b.op("Transpose", "to_nchw", List.of(x), Attribute.ofInts("perm", 0, 3, 1, 2));
        return residualBody(b, new Random(seed), t, c, w, classes);
    }

    private static Model residualBody(GraphBuilder b, Random r, String x, int c, int w, int classes) {
        String w0 = b.initializer("stem.weight", new long[] {w, c, 3, 3}, randn(r, w * c * 9, Math.sqrt(2.0 / (c * 9))));
        String b0 = b.initializer("stem.bias", new long[] {w}, randn(r, w, 0.1));
        String h = b.conv("stem", x, w0, b0, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
        h = b.op("Relu", "stem_relu", h);
        String skip = h;
        for (int k = 1; k <= 2; k++) {
            String wk = b.initializer("block.conv" + k + ".weight", new long[] {w, w, 3, 3},
                    randn(r, w * w * 9, Math.sqrt(2.0 / (w * 9))));
            h = b.conv("block_conv" + k, h, wk, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
            h = batchNorm(b, r, "block_bn" + k, h, w);
            if (k == 1) {
                h = b.op("Relu", "block_relu1", h);
            }
        }
        h = b.op("Add", "block_add", h, skip);
        h = b.op("Relu", "block_relu2", h);
        classifier(b, r, h, w, classes);
        return Model.of(b.graph(), 13);
    }

    /**
     * An FPN-like CNN with operators acdc has no rule for, at {@code opset} (11 or later): stem conv (c→w,
     * stride 2), Relu, {@code Resize} x2 nearest (upsampling back to s×s), a 3x3 conv (w→w), {@code Softplus},
     * Add with the upsampled map, another 3x3 conv, GlobalAveragePool, Flatten, Gemm → classes.
     */
    public static Model withUpsample(int c, int s, int w, int classes, long seed, long opset) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("fpn_like");
        String h = strideTwoStem(b, r, c, s, w);
        String roi = b.initializer("up.roi", new long[] {0}, new float[0]);
        String scales = b.initializer("up.scales", new long[] {4}, new float[] {1, 1, 2, 2});
        b.graph().nodes().add(new dev.acdc.ir.Node("up", "Resize", List.of(h, roi, scales), List.of("up_out"),
                List.of(Attribute.ofString("mode", "nearest"),
                        Attribute.ofString("coordinate_transformation_mode", "asymmetric"),
                        Attribute.ofString("nearest_mode", "floor"))));
        String up = "up_out";
        String w1 = b.initializer("lateral.weight", new long[] {w, w, 3, 3}, randn(r, w * w * 9, Math.sqrt(2.0 / (w * 9))));
        h = b.conv("lateral", up, w1, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
        b.graph().nodes().add(new dev.acdc.ir.Node("soft", "Softplus", List.of(h), List.of("soft_out"), List.of()));
        h = b.op("Add", "merge", "soft_out", up);
        String w2 = b.initializer("head.weight", new long[] {w, w, 3, 3}, randn(r, w * w * 9, Math.sqrt(2.0 / (w * 9))));
        h = b.conv("head", h, w2, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
        classifier(b, r, h, w, classes);
        return Model.of(b.graph(), opset);
    }

    /**
     * A decoder-like CNN with a transposed convolution: stem conv (c→w, stride 2), Relu, {@code ConvTranspose}
     * (w→w, 3x3, stride 2, pads 1, output_padding 1: back to s×s; kernel [w, w/group, 3, 3], with a bias),
     * Relu, a 3x3 conv (w→w), GlobalAveragePool, Flatten, Gemm → classes. Opset 13.
     */
    public static Model withTransposedConv(int c, int s, int w, int classes, int group, long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("decoder_like");
        String h = strideTwoStem(b, r, c, s, w);
        int perGroup = w / group;
        String wt = b.initializer("up.weight", new long[] {w, perGroup, 3, 3},
                randn(r, w * perGroup * 9, Math.sqrt(2.0 / (perGroup * 9))));
        String bt = b.initializer("up.bias", new long[] {w}, randn(r, w, 0.1));
        h = b.op("ConvTranspose", "up", List.of(h, wt, bt), Attribute.ofInt("group", group),
                Attribute.ofInts("strides", 2, 2), Attribute.ofInts("pads", 1, 1, 1, 1),
                Attribute.ofInts("output_padding", 1, 1), Attribute.ofInts("kernel_shape", 3, 3));
        h = b.op("Relu", "up_relu", h);
        String w2 = b.initializer("head.weight", new long[] {w, w, 3, 3}, randn(r, w * w * 9, Math.sqrt(2.0 / (w * 9))));
        h = b.conv("head", h, w2, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1});
        classifier(b, r, h, w, classes);
        return Model.of(b.graph(), 13);
    }

    /**
     * A MobileNetV2-like CNN on [N,c,s,s]: a stride-2 stem (c→w, 3x3), one inverted residual block (1x1 expand
     * w→e, BatchNormalization, Relu; depthwise 3x3 e; 1x1 project e→w, BatchNormalization; Add), a 1x1 head conv
     * w→h with Relu, and the classifier. Its weights sit in 1x1 convs, as a mobile network's do.
     */
    public static Model invertedResidual(int c, int s, int w, int e, int h, int classes, long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("tiny_inverted_residual");
        String x = strideTwoStem(b, r, c, s, w);
        String we = b.initializer("expand.weight", new long[] {e, w, 1, 1}, randn(r, e * w, Math.sqrt(2.0 / w)));
        String y = b.conv("expand", x, we, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0});
        y = b.op("Relu", "expand_relu", batchNorm(b, r, "expand_bn", y, e));
        String wd = b.initializer("depthwise.weight", new long[] {e, 1, 3, 3}, randn(r, e * 9, Math.sqrt(2.0 / 9)));
        y = b.op("Relu", "depthwise_relu", b.conv("depthwise", y, wd, null, e, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        String wp = b.initializer("project.weight", new long[] {w, e, 1, 1}, randn(r, w * e, Math.sqrt(1.0 / e)));
        y = batchNorm(b, r, "project_bn", b.conv("project", y, wp, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0}), w);
        y = b.op("Add", "block_add", y, x);
        String wh = b.initializer("head.weight", new long[] {h, w, 1, 1}, randn(r, h * w, Math.sqrt(2.0 / w)));
        String bh = b.initializer("head.bias", new long[] {h}, randn(r, h, 0.1));
        y = b.op("Relu", "head_relu", b.conv("head", y, wh, bh, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0}));
        classifier(b, r, y, h, classes);
        return Model.of(b.graph(), 13);
    }

    /**
     * A bottleneck CNN on [N,c,s,s] (ResNet-50's block, small): a stride-2 stem (c→w, 3x3), one block of a 1x1
     * reduce w→mid, a 3x3 mid→mid and a 1x1 expand mid→w (each with Relu but the last), Add, Relu, and the
     * classifier. Its weights sit in 1x1 and 3x3 convs alike.
     */
    public static Model bottleneck(int c, int s, int w, int mid, int classes, long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("tiny_bottleneck");
        String x = strideTwoStem(b, r, c, s, w);
        String w1 = b.initializer("reduce.weight", new long[] {mid, w, 1, 1}, randn(r, mid * w, Math.sqrt(2.0 / w)));
        String y = b.op("Relu", "reduce_relu", b.conv("reduce", x, w1, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0}));
        String w2 = b.initializer("spatial.weight", new long[] {mid, mid, 3, 3}, randn(r, mid * mid * 9, Math.sqrt(2.0 / (mid * 9))));
        y = b.op("Relu", "spatial_relu", b.conv("spatial", y, w2, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        String w3 = b.initializer("expand.weight", new long[] {w, mid, 1, 1}, randn(r, w * mid, Math.sqrt(1.0 / mid)));
        y = b.conv("expand", y, w3, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0});
        y = b.op("Relu", "block_relu", b.op("Add", "block_add", y, x));
        classifier(b, r, y, w, classes);
        return Model.of(b.graph(), 13);
    }

    /**
     * An Inception-like CNN on [N,c,s,s]: a stride-2 stem (c→w, 3x3), two branches (a 3x3 conv w→w with Relu,
     * a 1x1 conv w→w with Relu) joined by Concat (2w channels), a 3x3 conv 2w→w with Relu, and the classifier.
     * No value inside the module carries all the data: the branches are live together until the Concat.
     */
    public static Model branchy(int c, int s, int w, int classes, long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("tiny_branchy");
        String x = strideTwoStem(b, r, c, s, w);
        String wa = b.initializer("branch3.weight", new long[] {w, w, 3, 3}, randn(r, w * w * 9, Math.sqrt(2.0 / (w * 9))));
        String ya = b.op("Relu", "branch3_relu", b.conv("branch3", x, wa, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        String wb = b.initializer("branch1.weight", new long[] {w, w, 1, 1}, randn(r, w * w, Math.sqrt(2.0 / w)));
        String yb = b.op("Relu", "branch1_relu", b.conv("branch1", x, wb, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0}));
        String cat = b.op("Concat", "concat", List.of(ya, yb), Attribute.ofInt("axis", 1));
        String wm = b.initializer("merge.weight", new long[] {w, 2 * w, 3, 3},
                randn(r, w * 2 * w * 9, Math.sqrt(2.0 / (2 * w * 9))));
        String y = b.op("Relu", "merge_relu", b.conv("merge", cat, wm, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        classifier(b, r, y, w, classes);
        return Model.of(b.graph(), 13);
    }

    /** The input [N, c, s, s], a 3x3 conv c→w of stride 2 named "stem" and its Relu. */
    static String strideTwoStem(GraphBuilder b, Random r, int c, int s, int w) {
        String x = b.input("input", DataType.FLOAT, -1, c, s, s);
        String w0 = b.initializer("stem.weight", new long[] {w, c, 3, 3}, randn(r, w * c * 9, Math.sqrt(2.0 / (c * 9))));
        String h = b.conv("stem", x, w0, null, 1, new long[] {2, 2}, new long[] {1, 1, 1, 1});
        return b.op("Relu", "stem_relu", h);
    }

    /** GlobalAveragePool, Flatten and a Gemm from {@code w} channels to {@code classes}: the graph's output. */
    static void classifier(GraphBuilder b, Random r, String h, int w, int classes) {
        String p = b.op("GlobalAveragePool", "pool", h);
        String f = b.op("Flatten", "flatten", List.of(p), Attribute.ofInt("axis", 1));
        String fw = b.initializer("fc.weight", new long[] {classes, w}, randn(r, classes * w, Math.sqrt(1.0 / w)));
        String fb = b.initializer("fc.bias", new long[] {classes}, randn(r, classes, 0.1));
        String y = b.op("Gemm", "fc", List.of(f, fw, fb), Attribute.ofInt("transB", 1));
        b.output(y, DataType.FLOAT, -1, classes);
    }

    /**
     * {@code m} as onnxconverter-common's float16 pass writes it: every float weight FLOAT16 (rounded to the nearest
     * half); with {@code keepIoTypes} the input and output stay FLOAT and a Cast to FLOAT16 follows the input and a
     * Cast to FLOAT precedes the output, else they are FLOAT16 themselves. A model of one input and one output.
     */
    public static Model asFloat16(Model m, boolean keepIoTypes) {
        dev.acdc.ir.Graph g = m.graph();
        for (dev.acdc.ir.Tensor t : List.copyOf(g.initializers().values())) {
            if (t.type() == DataType.FLOAT) {
                g.putInitializer(dev.acdc.ir.Tensor.ofFloat16(t.name(), t.shape(), t.floats()));
            }
        }
        dev.acdc.ir.ValueInfo in = g.inputs().get(0);
        dev.acdc.ir.ValueInfo out = g.outputs().get(0);
        if (keepIoTypes) {
            g.replaceUses(in.name(), "input_cast");
            g.nodes().add(0, new dev.acdc.ir.Node("graph_input_cast0", "Cast", List.of(in.name()), List.of("input_cast"),
                    List.of(Attribute.ofInt("to", DataType.FLOAT16.code()))));
            for (dev.acdc.ir.Node n : g.nodes()) {
                for (int k = 0; k < n.outputs().size(); k++) {
                    if (n.output(k).equals(out.name())) {
                        n.setOutput(k, "output_cast");
                    }
                }
            }
            g.nodes().add(new dev.acdc.ir.Node("graph_output_cast0", "Cast", List.of("output_cast"), List.of(out.name()),
                    List.of(Attribute.ofInt("to", DataType.FLOAT.code()))));
        } else {
            g.inputs().set(0, new dev.acdc.ir.ValueInfo(in.name(), DataType.FLOAT16, in.dims(), null));
            g.outputs().set(0, new dev.acdc.ir.ValueInfo(out.name(), DataType.FLOAT16, out.dims(), null));
        }
        return m;
    }

    static String batchNorm(GraphBuilder b, Random r, String name, String x, int ch) {
        String g = b.initializer(name + ".gamma", new long[] {ch}, positive(r, ch));
        String be = b.initializer(name + ".beta", new long[] {ch}, randn(r, ch, 0.1));
        String mu = b.initializer(name + ".mean", new long[] {ch}, randn(r, ch, 0.1));
        String var = b.initializer(name + ".var", new long[] {ch}, positive(r, ch));
        return b.op("BatchNormalization", name, List.of(x, g, be, mu, var), Attribute.ofFloat("epsilon", 1e-5f));
    }
}
