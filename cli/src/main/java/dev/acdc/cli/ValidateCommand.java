package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.util.Json;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc validate}: original vs candidate on real data. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Run an original and a candidate model on the same batches of a data set and report top-1 "
                + "(and top-5 with 5+ classes) of each, the drop, prediction agreement and logit differences. "
                + "Exit code 1 when the drop exceeds --max-drop.")
final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Mixin
    DataOptions dataOptions;

    @Parameters(index = "0", paramLabel = "ORIGINAL.onnx", description = "The reference model.")
    Path original;

    @Parameters(index = "1", paramLabel = "CANDIDATE.onnx", description = "The model to check (e.g. the compressed one).")
    Path candidate;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC, key = "spec")
    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "cifar10:FILE[,FILE...] | idx:IMAGES[,LABELS] (gzip or plain) | folder:DIR "
                    + "(one sub-folder per class, PNG/JPEG/BMP) | list:FILE (image paths, one per line, each optionally "
                    + "followed by its class index).")
    String data;

    @Setting(stage = Setting.Stage.VALIDATE, level = Setting.Level.BASIC)
    @Option(names = "--max-drop", paramLabel = "PTS", description = "Fail (exit 1) when top-1 drops by more points.")
    Double maxDrop;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON.")
    Path json;

    @Option(names = "--measure-overhead", description = "Also time a bare ONNX Runtime loop over the same "
            + "preprocessed batches and print validate's throughput as a ratio of it.")
    boolean measureOverhead;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (maxDrop != null && !(maxDrop >= 0 && maxDrop <= 100)) {
            throw new AcdcException("--max-drop must be between 0 and 100 points, got " + maxDrop);
        }
        dataOptions.sessions(); // bad runtime options fail before any work
        new OutputGuard().reads(original, candidate).readsData(data).writes(json);
        byte[] a = OutputFiles.readAll(original);
        byte[] b = OutputFiles.readAll(candidate);
        Preprocessing pre = dataOptions.preprocessing();
        try (Dataset all = dataOptions.open(data)) {
            Dataset ds = dataOptions.sample(all, "evaluation", err);
            err.println("acdc: " + pre);
            ValidationResult r = ValidationText.run(a, b, ds, pre, dataOptions, err);
            out.print(ValidationText.render(r, original.getFileName().toString(), candidate.getFileName().toString()));
            // one verdict line, as compress ends with, and its warnings
            dev.acdc.runtime.workflow.Verdict verdict = dev.acdc.runtime.workflow.Verdict.ofComparison(a.length,
                    b.length, r);
            for (String w : verdict.warnings()) {
                out.println(Colors.warning(w));
            }
            out.println(Colors.verdict(verdict.line(), !verdict.warnings().isEmpty()));
            @SuppressWarnings("unchecked")
            Map<String, Object> j = new java.util.LinkedHashMap<>(
                    Json.mapper().convertValue(dev.acdc.report.ValidationSection.of(r), Map.class));
            j.put("verdict", verdict.line());
            j.put("warnings", verdict.warnings());
            if (measureOverhead) {
                double bare = Validator.bareLoop(a, b, ds, pre, ValidationText.options(dataOptions));
                out.printf("throughput: validate %.0f img/s, bare ONNX Runtime loop %.0f img/s (ratio %.2f)%n",
                        r.imagesPerSecond(), bare, r.imagesPerSecond() / bare);
                j.put("bareLoopImagesPerSecond", bare);
            }
            if (json != null) {
                Json.write(j, json);
            }
            out.flush();
            if (maxDrop != null) {
                if (!r.labels()) {
                    throw new AcdcException("--max-drop needs labels, and these data have none");
                }
                if (r.drop() > maxDrop) {
                    err.printf("acdc: top-1 dropped %.2f points, more than --max-drop %.2f%n", r.drop(), maxDrop);
                    return AcdcException.CHECK_FAILED;
                }
            }
        }
        return 0;
    }

}
