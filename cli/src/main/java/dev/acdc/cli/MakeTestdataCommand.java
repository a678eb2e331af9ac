package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testdata.TinyResNet;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code acdc make-testdata}: regenerates the small model shipped in testdata/. */
@Command(name = "make-testdata", mixinStandardHelpOptions = true,
        description = {"Write the models and data of testdata/, reproducibly (testdata/README.md has the whole recipe).",
            "--model tiny-resnet (default): the small residual CNN the tests use (3x32x32 -> 10, He-initialised, "
                    + "untrained).",
            "--model fmnist-resnet14: the demo network before training (1x28x28 -> 10, 175 k parameters); "
                    + "'acdc train' trains it.",
            "--idx-subset IMAGES,LABELS --count N: the first N images and labels of an IDX data set, as "
                    + "OUT-images-idx3-ubyte.gz and OUT-labels-idx1-ubyte.gz."})
final class MakeTestdataCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "OUT.onnx", defaultValue = "testdata/tiny-resnet.onnx",
            description = "Where to write it (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--weight-seed", defaultValue = "20201005", description = "Seed of the weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model", defaultValue = "tiny-resnet", paramLabel = "NAME",
            description = "tiny-resnet or fmnist-resnet14 (default: ${DEFAULT-VALUE}).")
    String modelName;

    @Option(names = "--idx-subset", paramLabel = "IMAGES,LABELS", description = "Write a subset of this IDX data set "
            + "instead of a model; OUT is then the prefix of the two files.")
    String idxSubset;

    @Option(names = "--count", defaultValue = "5000", description = "Images in the subset (default: ${DEFAULT-VALUE}).")
    int count;

    @Override
    public Integer call() {
        var o = spec.commandLine().getOut();
        if (idxSubset != null) {
            String prefix = out.toString().endsWith(".onnx") ? out.toString().substring(0, out.toString().length() - 5)
                    : out.toString();
            Path images = Path.of(prefix + "-images-idx3-ubyte.gz");
            Path labels = Path.of(prefix + "-labels-idx1-ubyte.gz");
            try (dev.acdc.data.Dataset d = dev.acdc.data.DataSpec.open("idx:" + idxSubset)) {
                dev.acdc.data.IdxWriter.writeSubset(d, count, images, labels);
            }
            o.printf("wrote %s and %s (%d images)%n", images, labels, count);
            return 0;
        }
        dev.acdc.ir.Model m = switch (modelName) {
            case "tiny-resnet" -> TinyResNet.build(seed);
            case "fmnist-resnet14" -> dev.acdc.testdata.FashionResNet.build(seed);
            default -> throw new dev.acdc.AcdcException("--model must be tiny-resnet or fmnist-resnet14, got '"
                    + modelName + "'");
        };
        long bytes = OnnxModels.save(m, out, null);
        o.printf("wrote %s (%d bytes, %d parameters)%n", out, bytes, m.graph().parameterCount());
        return 0;
    }
}
