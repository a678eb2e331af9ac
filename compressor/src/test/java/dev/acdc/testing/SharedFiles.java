package dev.acdc.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds files in the ../shared folder beside the project (CI lays it there; a user's machine has
 * none). Tests that need one skip with a message naming the missing file.
 */
public final class SharedFiles {
    private SharedFiles() {
    }

    /** The shared folder: -Dacdc.shared, $ACDC_SHARED, or ../shared from the project root. */
    public static Path root() {
        String p = System.getProperty("acdc.shared", System.getenv("ACDC_SHARED"));
        if (p != null) {
            return Path.of(p);
        }
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isDirectory(d.resolve("compressor"))) {
                return d.resolveSibling("shared");
            }
        }
        return dir.resolveSibling("shared");
    }

    /** A shared file, or skips the calling test naming it. */
    public static Path require(String relative) {
        Path f = root().resolve(relative);
        Assumptions.assumeTrue(Files.isRegularFile(f), () -> "skipped: shared file " + f + " is not present");
        return f;
    }

    public static Path model(String name) {
        return require("models/" + name);
    }

    public static final String[] MODELS = {"resnet20-cifar10.onnx", "resnet56-cifar10.onnx",
        "resnet20-cifar10-bn-batch1.onnx", "mnist-8.onnx", "resnet18-imagenet-random.onnx",
        "mobilenet_v2-imagenet-random.onnx"};
}
