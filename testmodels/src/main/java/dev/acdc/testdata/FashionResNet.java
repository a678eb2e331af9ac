package dev.acdc.testdata;

import dev.acdc.ir.Model;

/**
 * The demo network of testdata/, before training (1×28×28 → 10 Fashion-MNIST classes): {@link ResidualNet}
 * with two blocks per stage — 175 k parameters, 3×3 convolutions throughout — each block's second conv
 * starting at zero so every block starts as the identity (SkipInit/Fixup: a residual net without
 * normalisation trains stably from there). {@code acdc train} trains it as it is, without normalisation.
 */
public final class FashionResNet {
    public static final String[] CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
        "Shirt", "Sneaker", "Bag", "Ankle boot"};

    private FashionResNet() {
    }

    public static Model build(long seed) {
        Model m = ResidualNet.build("fashion_resnet14", 1, 28, 2, true, seed);
        m.metadata().put("description", "Fashion-MNIST ResNet-14 (acdc demo); input: grey 28x28 scaled to [0,1]");
        m.metadata().put("classes", String.join(",", CLASSES));
        return m;
    }
}
