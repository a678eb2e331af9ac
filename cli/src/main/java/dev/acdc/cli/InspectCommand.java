package dev.acdc.cli;

import dev.acdc.inspect.ConvInfo;
import dev.acdc.inspect.Inspector;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.OpSchema;
import dev.acdc.runtime.MeasuredShapes;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.util.Json;
import dev.acdc.util.Table;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc inspect}: what a model costs, per convolution and in total. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show each convolution of an ONNX model (kernel, group, stride, params, multiply-adds, "
                + "and the residual block and stage --share=block/stage would put it in), "
                + "then totals and an operator histogram. Operators acdc has no rule for are listed, all of them, "
                + "with what could be seen around them, instead of refusing the model.")
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "MODEL.onnx", description = "The model to inspect.")
    Path model;

    @Setting(stage = Setting.Stage.INPUT)
    @Option(names = "--input-shape", paramLabel = "N,C,H,W",
            description = "Input shape for multiply-add counts (default: the declared shape, symbolic batch = 1).")
    String inputShape;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the summary as JSON.")
    Path json;

    @Override
    public Integer call() {
        new OutputGuard().reads(model).writes(json);
        long[] given = Options.parseShape(inputShape);
        var err = spec.commandLine().getErr();
        ModelSummary s = Inspector.inspect(model, given, m -> {
            if (!OpSchema.unknownOperators(m.graph()).isEmpty()) {
                try {
                    long[] shape = ModelSummary.whatCanBeSeen(m, given, 0).inputShape();
                    int n = MeasuredShapes.declare(m, shape).size();
                    err.println("acdc: shapes of " + n + " values after operators acdc has no rule for measured in "
                            + "ONNX Runtime");
                } catch (dev.acdc.AcdcException e) {
                    err.println("acdc: cannot measure the shapes after the operators acdc has no rule for: "
                            + e.getMessage());
                }
            }
        });
        var out = spec.commandLine().getOut();
        Table t = new Table("conv", "kernel", "group", "stride", "params", "MACs", "kind", "block", "stage")
                .leftAligned(1, 6);
        for (ConvInfo c : s.convs()) {
            t.row(c.name(), c.kernelString(), c.group(), strides(c.strides()), c.params(),
                    c.macs() < 0 ? "?" : Table.human(c.macs()),
                    c.kind(), c.block() < 0 ? "-" : c.block(), c.stage() < 0 ? "-" : c.stage());
        }
        out.print(t);
        out.printf("%nmodel        %s%n", model);
        out.printf("input shape  %s%s%n", s.inputShape() == null ? "?" : Arrays.toString(s.inputShape()),
                s.openSpatialNote() == null ? "" : " (" + s.openSpatialNote() + ")");
        out.printf("params       %d (%s)%n", s.params(), Table.human(s.params()));
        out.printf("MACs         %s%d (%s)%s%n", s.macsComplete() ? "" : ">= ", s.macs(), Table.human(s.macs()),
                s.macsComplete() ? "" : "; " + s.unsized() + " Conv/Gemm/MatMul after unsupported operators not counted");
        out.printf("file         %d bytes (%s)%n", s.bytes(), Table.bytes(s.bytes()));
        out.printf("convs        %d (%d spatial)%n", s.convs().size(),
                s.convs().stream().filter(ConvInfo::spatial).count());
        long merges = s.residual().residualBlocks();
        out.printf("residual     %s%n", merges == 0
                ? "no residual merges found: --share=block and --share=stage share per conv"
                : merges + " residual blocks, " + s.residual().blocks().size() + " blocks in " + s.residual().stages()
                        + " stages (the units of --share=block and --share=stage)");
        StringBuilder ops = new StringBuilder();
        for (Map.Entry<String, Integer> e : s.ops().entrySet()) {
            ops.append(ops.length() == 0 ? "" : ", ").append(e.getKey()).append(" ").append(e.getValue());
        }
        out.printf("operators    %s%n", ops);
        if (!s.unsupported().isEmpty()) {
            out.printf("unsupported  %s: acdc has no rule for %s; compress, validate and quantize pass %s through "
                    + "unchanged (shapes measured in ONNX Runtime), finetune refuses the model%n",
                    OpSchema.describe(s.unsupported()), s.unsupported().size() == 1 ? "it" : "them",
                    s.unsupported().size() == 1 ? "it" : "them");
        }
        for (String bad : s.nonFinite()) {
            out.printf("warning      non-finite weights: %s%n", bad);
        }
        if (json != null) {
            Json.write(Inspector.toJson(s), json);
            out.printf("wrote %s%n", json);
        }
        out.flush();
        return 0;
    }

    private static String strides(long[] s) {
        StringBuilder b = new StringBuilder();
        for (long v : s) {
            b.append(b.length() == 0 ? "" : "x").append(v);
        }
        return b.toString();
    }
}
