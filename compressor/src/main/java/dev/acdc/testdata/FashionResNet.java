package dev.acdc.testdata;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;

import java.util.List;
import java.util.Random;

/**
 * The demo network of testdata/, before training (1×28×28 → 10 Fashion-MNIST classes): a 3×3 stem
 * (16), three stages of two residual blocks each (widths 16, 32, 64; stride 2 and a 1×1 projection at
 * each widening), global average pooling and a linear classifier — 175 k parameters, 3×3 convolutions
 * throughout. Weights are He-initialised from a fixed seed, except that each block's second conv
 * starts at zero so every block starts as the identity (SkipInit/Fixup: a residual net without
 * normalisation trains stably from there). {@code acdc train} trains it with BatchNormalization put
 * back during training and folded away for export.
 */
public final class FashionResNet {
    public static final String[] CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
        "Shirt", "Sneaker", "Bag", "Ankle boot"};

    private FashionResNet() {
    }

    public static Model build(long seed) {
        Random r = new Random(seed);
        GraphBuilder b = GraphBuilder.create("fashion_resnet14");
        String x = b.input("input", DataType.FLOAT, -1, 1, 28, 28);
        String h = conv(b, r, "stem", x, 1, 16, 3, 1, false);
        h = b.op("Relu", "stem_relu", h);
        int in = 16;
        int stage = 1;
        for (int width : new int[] {16, 32, 64}) {
            for (int block = 1; block <= 2; block++) {
                int stride = width == in ? 1 : 2;
                String name = "stage" + stage + "_block" + block;
                String y = conv(b, r, name + "_conv1", h, in, width, 3, stride, false);
                y = b.op("Relu", name + "_relu1", y);
                y = conv(b, r, name + "_conv2", y, width, width, 3, 1, true);
                String skip = width == in ? h : conv(b, r, name + "_proj", h, in, width, 1, stride, false);
                h = b.op("Add", name + "_add", y, skip);
                h = b.op("Relu", name + "_relu2", h);
                in = width;
            }
            stage++;
        }
        h = b.op("GlobalAveragePool", "pool", h);
        h = b.op("Flatten", "flatten", List.of(h), Attribute.ofInt("axis", 1));
        String fw = b.initializer("fc.weight", new long[] {10, 64}, TinyResNet.normal(r, 640, Math.sqrt(1.0 / 64)));
        String fb = b.initializer("fc.bias", new long[] {10}, new float[10]);
        String logits = b.op("Gemm", "fc", List.of(h, fw, fb), Attribute.ofInt("transB", 1));
        b.output(logits, DataType.FLOAT, -1, 10);
        Model m = Model.of(b.graph(), 13);
        m.metadata().put("description", "Fashion-MNIST ResNet-14 (acdc demo); input: grey 28x28 scaled to [0,1]");
        m.metadata().put("classes", String.join(",", CLASSES));
        return m;
    }

    /** {@link TinyResNet}'s He-initialised conv; {@code zero}: the weights drawn (same random stream), then zeroed. */
    private static String conv(GraphBuilder b, Random r, String name, String x, int in, int out, int k, int stride,
                               boolean zero) {
        String y = TinyResNet.conv(b, r, name, x, in, out, k, stride);
        if (zero) {
            b.graph().putInitializer(Tensor.ofFloats(name + ".weight", new long[] {out, in, k, k}, new float[out * in * k * k]));
        }
        return y;
    }
}
