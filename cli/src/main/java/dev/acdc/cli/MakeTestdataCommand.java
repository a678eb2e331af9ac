package dev.acdc.cli;

import dev.acdc.onnx.OnnxModels;
import dev.acdc.testdata.TinyResNet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code acdc make-testdata}: regenerates the small model shipped in testdata/. */
@Command(name = "make-testdata", mixinStandardHelpOptions = true,
        description = "Write the small residual CNN of testdata/ (3x32x32 -> 10, He-initialised from a fixed seed; "
                + "structure only, untrained). Reproducible byte for byte.")
final class MakeTestdataCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "OUT.onnx", defaultValue = "testdata/tiny-resnet.onnx",
            description = "Where to write it (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--seed", defaultValue = "20201005", description = "Weight seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        long bytes = OnnxModels.save(TinyResNet.build(seed), out, null);
        spec.commandLine().getOut().printf("wrote %s (%d bytes)%n", out, bytes);
        return 0;
    }
}
