package dev.acdc.inspect;

import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The library side of {@code acdc inspect}: load a file and summarise it. */
public final class Inspector {
    private Inspector() {
    }

    public static ModelSummary inspect(Path file, long[] inputShape) {
        return inspect(file, inputShape, m -> { });
    }

    /**
     * As {@link #inspect(Path, long[])}, {@code annotate} first given the model (e.g. to declare the shapes an
     * operator without a rule computes, measured in ONNX Runtime).
     */
    public static ModelSummary inspect(Path file, long[] inputShape, java.util.function.Consumer<Model> annotate) {
        Model m = OnnxModels.load(file);
        annotate.accept(m);
        long bytes;
        try {
            bytes = Files.size(file);
        } catch (IOException e) {
            throw new AcdcException("cannot read " + file + ": " + e.getMessage());
        }
        return ModelSummary.whatCanBeSeen(m, inputShape, bytes);
    }

    /** The JSON form: params, macs, bytes, ops, convs (name, kernel, group, params, macs, ...). */
    public static Map<String, Object> toJson(ModelSummary s) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("params", s.params());
        j.put("macs", s.macs());
        j.put("macsComplete", s.macsComplete());
        Map<String, Integer> unsupported = new LinkedHashMap<>();
        s.unsupported().forEach((op, nodes) -> unsupported.put(op, nodes.size()));
        j.put("unsupportedOperators", unsupported);
        j.put("nonFinite", s.nonFinite());
        j.put("bytes", s.bytes());
        j.put("inputShape", s.inputShape());
        j.put("ops", s.ops());
        List<Map<String, Object>> convs = new ArrayList<>();
        for (ConvInfo c : s.convs()) {
            Map<String, Object> cj = new LinkedHashMap<>();
            cj.put("name", c.name());
            cj.put("kernel", new long[] {c.out(), c.inPerGroup(), c.kh(), c.kw()});
            cj.put("group", c.group());
            cj.put("stride", c.strides());
            cj.put("params", c.params());
            cj.put("macs", c.macs() < 0 ? null : c.macs()); // null: its size is not known
            cj.put("kind", c.kind());
            cj.put("block", c.block());
            cj.put("stage", c.stage());
            convs.add(cj);
        }
        j.put("convs", convs);
        j.put("residualBlocks", s.residual().residualBlocks());
        j.put("stages", s.residual().stages());
        return j;
    }
}
