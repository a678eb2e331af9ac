package dev.acdc.testdata;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;

import java.util.List;
import java.util.Random;

/**
 * The residual CNNs acdc builds in code ({@link TinyResNet}, {@link FashionResNet}): a 3×3 stem (16),
 * three stages of {@code blocks} residual blocks (widths 16, 32, 64; stride 2 and a 1×1 projection at
 * each widening), global average pooling and a linear classifier to 10 classes. Weights are
 * He-initialised from a fixed seed, in a fixed order, so a file is reproducible byte for byte.
 * {@code zeroSecond}: each block's second conv starts at zero (drawn, then zeroed, so the random stream
 * is the same), making every block the identity at the start (SkipInit/Fixup).
 */
final class ResidualNet {
    private ResidualNet() {
    }

    static Model build(String name, int channels, int size, int blocks, boolean zeroSecond, long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create(name);
        String x = b.input("input", DataType.FLOAT, -1, channels, size, size);
        String h = conv(b, r, "stem", x, channels, 16, 3, 1);
        h = b.op("Relu", "stem_relu", h);
        int in = 16;
        int stage = 1;
        for (int width : new int[] {16, 32, 64}) {
            for (int block = 1; block <= blocks; block++) {
                int stride = width == in ? 1 : 2;
                String prefix = "stage" + stage + (blocks == 1 ? "" : "_block" + block);
                String y = conv(b, r, prefix + "_conv1", h, in, width, 3, stride);
                y = b.op("Relu", prefix + "_relu1", y);
                y = conv(b, r, prefix + "_conv2", y, width, width, 3, 1);
                if (zeroSecond) {
                    b.graph().putInitializer(Tensor.ofFloats(prefix + "_conv2.weight", new long[] {width, width, 3, 3},
                            new float[width * width * 9]));
                }
                String skip = width == in ? h : conv(b, r, prefix + "_proj", h, in, width, 1, stride);
                h = b.op("Add", prefix + "_add", y, skip);
                h = b.op("Relu", prefix + "_relu2", h);
                in = width;
            }
            stage++;
        }
        h = b.op("GlobalAveragePool", "pool", h);
        h = b.op("Flatten", "flatten", List.of(h), Attribute.ofInt("axis", 1));
        String fw = b.initializer("fc.weight", new long[] {10, 64}, normal(r, 640, Math.sqrt(1.0 / 64)));
        String fb = b.initializer("fc.bias", new long[] {10}, new float[10]);
        String logits = b.op("Gemm", "fc", List.of(h, fw, fb), Attribute.ofInt("transB", 1));
        b.output(logits, DataType.FLOAT, -1, 10);
        return Model.of(b.graph(), 13);
    }

    private static String conv(GraphBuilder b, Random r, String name, String x, int in, int out, int k, int stride) {
        String w = b.initializer(name + ".weight", new long[] {out, in, k, k},
                normal(r, out * in * k * k, Math.sqrt(2.0 / (in * k * k))));
        String bias = b.initializer(name + ".bias", new long[] {out}, new float[out]);
        int p = k / 2;
        return b.conv(name, x, w, bias, 1, new long[] {stride, stride}, new long[] {p, p, p, p});
    }

    private static float[] normal(Random r, int n, double std) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * std);
        }
        return f;
    }
}
