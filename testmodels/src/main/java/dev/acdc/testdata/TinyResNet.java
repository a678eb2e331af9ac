package dev.acdc.testdata;

import dev.acdc.ir.Model;

/**
 * A small CIFAR-shaped residual CNN built in code (3×32×32 → 10 classes): {@link ResidualNet} with one
 * block per stage, random He-initialised weights (structure only), reproducible byte for byte:
 * {@code acdc make-testdata testdata/tiny-resnet.onnx}.
 */
public final class TinyResNet {
    private TinyResNet() {
    }

    public static Model build(long seed) {
        Model m = ResidualNet.build("tiny_resnet", 3, 32, 1, false, seed);
        m.metadata().put("description", "acdc test model: random He-initialised weights, structure only");
        return m;
    }
}
