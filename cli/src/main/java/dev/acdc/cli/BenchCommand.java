package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.runtime.Bench;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.util.Json;
import dev.acdc.util.Table;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc bench}: ONNX Runtime latency per batch size, optionally against a second model. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure ONNX Runtime latency (p50/p90/p99) and images/s per batch size. With --vs, the two "
                + "models run interleaved and the ratio of their median latencies is printed.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "MODEL.onnx", description = "The model to time.")
    Path model;

    @Option(names = "--vs", paramLabel = "OTHER.onnx", description = "A second model, run interleaved with the first.")
    Path vs;

    @Option(names = "--batch-sizes", paramLabel = "1,8,32", defaultValue = "1,8,32", split = ",",
            description = "Batch sizes to time (default ${DEFAULT-VALUE}).")
    List<Integer> batches;

    /** The option's name before --batch meant the training batch in every command; still accepted, not shown. */
    @Option(names = "--batch", hidden = true, split = ",")
    List<Integer> oldBatches;

    @Option(names = "--warmup-runs", paramLabel = "N", defaultValue = "5",
            description = "Untimed runs per batch size (default ${DEFAULT-VALUE}).")
    int warmup;

    /** The option's name before --warmup meant the fine-tune's warm-up fraction in every command; accepted, not shown. */
    @Option(names = "--warmup", hidden = true)
    Integer oldWarmup;

    @Option(names = "--runs", defaultValue = "30", description = "Timed runs per batch size (default ${DEFAULT-VALUE}).")
    int runs;

    @Mixin
    RuntimeOptions runtime;

    @Setting(stage = Setting.Stage.INPUT)
    @Option(names = "--input-shape", paramLabel = "N,C,H,W",
            description = "Input shape to time at, as compress takes it (its batch is ignored: --batch-sizes; default: "
                    + "the declared shape, which must fix C, H and W).")
    String inputShape;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
    Path json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        new OutputGuard().reads(model, vs).writes(json);
        if (oldBatches != null) {
            if (spec.commandLine().getParseResult().hasMatchedOption("--batch-sizes")) {
                throw new AcdcException("--batch and --batch-sizes both set the batch sizes: give --batch-sizes");
            }
            batches = oldBatches;
        }
        if (oldWarmup != null) {
            if (spec.commandLine().getParseResult().hasMatchedOption("--warmup-runs")) {
                throw new AcdcException("--warmup and --warmup-runs both set the untimed runs: give --warmup-runs");
            }
            warmup = oldWarmup;
        }
        for (int b : batches) {
            if (b < 1) {
                throw new AcdcException("--batch-sizes must be at least 1, got " + b);
            }
        }
        var cfg = runtime.sessions();
        byte[] a = OutputFiles.readAll(model);
        byte[] b = vs == null ? null : OutputFiles.readAll(vs);
        String[] provUsed = {cfg.provider().name().toLowerCase()};
        List<Bench.Row> rows = Bench.run(a, b, batches, cfg, warmup, runs, Options.parseShape(inputShape), msg -> {
            err.println("acdc: " + msg);
            if (msg.startsWith("running on CPU")) {
                provUsed[0] = "cpu";
            }
        });
        if (provUsed[0].equals("auto")) {
            provUsed[0] = dev.acdc.runtime.Sessions.cudaBuild() ? "cuda" : "cpu";
        }
        List<String> head = new ArrayList<>(List.of("batch", "p50 ms", "p90 ms", "p99 ms", "img/s"));
        if (b != null) {
            head.addAll(List.of("vs p50 ms", "vs img/s", "vs/model"));
        }
        Table t = new Table(head.toArray(new String[0]));
        List<Map<String, Object>> jrows = new ArrayList<>();
        for (Bench.Row r : rows) {
            List<Object> row = new ArrayList<>(List.of(r.a().batch(), f(r.a().p50()), f(r.a().p90()), f(r.a().p99()),
                    String.format("%.0f", r.a().imagesPerSecond())));
            Map<String, Object> jr = new LinkedHashMap<>();
            jr.put("model", r.a().json());
            if (r.b() != null) {
                row.addAll(List.of(f(r.b().p50()), String.format("%.0f", r.b().imagesPerSecond()),
                        String.format("%.3f", r.ratio())));
                jr.put("vs", r.b().json());
                jr.put("ratio", r.ratio());
            }
            t.row(row.toArray());
            jrows.add(jr);
        }
        out.print(t);
        int th = runtime.threads > 0 ? runtime.threads : Runtime.getRuntime().availableProcessors();
        out.printf("provider %s, %d intra-op threads, %d warm-up + %d timed runs per batch%s%n", provUsed[0], th, warmup,
                runs, b == null ? "" : ", interleaved with " + vs.getFileName());
        if (json != null) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("model", model.toString());
            j.put("vs", vs == null ? null : vs.toString());
            j.put("provider", provUsed[0]);
            j.put("threads", th);
            j.put("runs", runs);
            j.put("rows", jrows);
            Json.write(j, json);
        }
        out.flush();
        return 0;
    }

    private static String f(double v) {
        return String.format("%.2f", v);
    }
}
