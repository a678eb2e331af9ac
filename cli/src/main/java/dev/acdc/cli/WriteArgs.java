package dev.acdc.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

/**
 * Where {@code compress} writes (heading "Output").
 */
@Setting(stage = Setting.Stage.WRITE)
final class WriteArgs {
    @Setting(level = Setting.Level.BASIC, recorded = false)
    @Option(names = {"-o", "--output"}, paramLabel = "OUT.onnx", description = "Output model (default: MODEL.acdc.onnx).")
    Path output;

    @Setting(recorded = false)
    @Option(names = "--report", paramLabel = "FILE.json",
            description = "JSON report (default: the output's name with .report.json).")
    Path report;
}
