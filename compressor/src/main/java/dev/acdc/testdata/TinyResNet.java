package dev.acdc.testdata;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;

import java.util.List;
import java.util.Random;

/**
 * A small CIFAR-shaped residual CNN built in code (3×32×32 → 10 classes): a 3×3 stem, three stages of
 * one residual block each (widths 16, 32, 64; stride 2 and a 1×1 projection at each widening), global
 * average pooling and a linear classifier. Weights are He-initialised from a fixed seed, so the file
 * is reproducible byte for byte: {@code acdc make-testdata testdata/tiny-resnet.onnx}.
 */
public final class TinyResNet {
    private TinyResNet() {
    }

    public static Model build(long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("tiny_resnet");
        String x = b.input("input", DataType.FLOAT, -1, 3, 32, 32);
        String h = conv(b, r, "stem", x, 3, 16, 3, 1);
        h = b.op("Relu", "stem_relu", h);
        int in = 16;
        int stage = 1;
        for (int width : new int[] {16, 32, 64}) {
            int stride = width == in ? 1 : 2;
            String name = "stage" + stage;
            String y = conv(b, r, name + "_conv1", h, in, width, 3, stride);
            y = b.op("Relu", name + "_relu1", y);
            y = conv(b, r, name + "_conv2", y, width, width, 3, 1);
            String skip = width == in ? h : conv(b, r, name + "_proj", h, in, width, 1, stride);
            h = b.op("Add", name + "_add", y, skip);
            h = b.op("Relu", name + "_relu2", h);
            in = width;
            stage++;
        }
        h = b.op("GlobalAveragePool", "pool", h);
        h = b.op("Flatten", "flatten", List.of(h), Attribute.ofInt("axis", 1));
        String fw = b.initializer("fc.weight", new long[] {10, 64}, normal(r, 640, Math.sqrt(1.0 / 64)));
        String fb = b.initializer("fc.bias", new long[] {10}, new float[10]);
        String logits = b.op("Gemm", "fc", List.of(h, fw, fb), Attribute.ofInt("transB", 1));
        b.output(logits, DataType.FLOAT, -1, 10);
        Model m = Model.of(b.graph(), 13);
        m.metadata().put("description", "acdc test model: random He-initialised weights, structure only");
        return m;
    }

    static String conv(GraphBuilder b, Random r, String name, String x, int in, int out, int k, int stride) {
        String w = b.initializer(name + ".weight", new long[] {out, in, k, k},
                normal(r, out * in * k * k, Math.sqrt(2.0 / (in * k * k))));
        String bias = b.initializer(name + ".bias", new long[] {out}, new float[out]);
        int p = k / 2;
        return b.conv(name, x, w, bias, 1, new long[] {stride, stride}, new long[] {p, p, p, p});
    }

    static float[] normal(Random r, int n, double std) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * std);
        }
        return f;
    }
}
