package dev.acdc.ir;

import java.util.LinkedHashMap;
import java.util.Map;

/** A model: the graph plus the file-level facts (IR version, opsets, producer, metadata). */
public final class Model {
    private long irVersion;
    private final Map<String, Long> opsets = new LinkedHashMap<>();
    private String producerName;
    private String producerVersion;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Graph graph;
    private final Object source;
    private boolean localFunctions;

    public Model(long irVersion, Map<String, Long> opsets, String producerName, String producerVersion,
                 Map<String, String> metadata, Graph graph, Object source) {
        this.irVersion = irVersion;
        this.opsets.putAll(opsets);
        this.producerName = producerName == null ? "" : producerName;
        this.producerVersion = producerVersion == null ? "" : producerVersion;
        this.metadata.putAll(metadata);
        this.graph = graph;
        this.source = source;
    }

    /** A fresh model (IR 8, default opset as given) around a graph, for models built in code. */
    public static Model of(Graph g, long opset) {
        return new Model(8, Map.of("", opset), "acdc", "", Map.of(), g, null);
    }

    public long irVersion() {
        return irVersion;
    }

    public void setIrVersion(long v) {
        this.irVersion = v;
    }

    /** domain ("" = default ONNX domain) → opset version; live map. */
    public Map<String, Long> opsets() {
        return opsets;
    }

    /** The default-domain opset version. */
    public long opset() {
        Long v = opsets.get("");
        if (v == null) {
            v = opsets.get("ai.onnx");
        }
        return v == null ? 0 : v;
    }

    public void setOpset(long v) {
        if (opsets.containsKey("ai.onnx") && !opsets.containsKey("")) {
            opsets.put("ai.onnx", v);
        } else {
            opsets.put("", v);
        }
    }

    public String producerName() {
        return producerName;
    }

    public String producerVersion() {
        return producerVersion;
    }

    public void setProducer(String name, String version) {
        this.producerName = name;
        this.producerVersion = version;
    }

    /** metadata_props, in file order; live map. */
    public Map<String, String> metadata() {
        return metadata;
    }

    public Graph graph() {
        return graph;
    }

    public Object source() {
        return source;
    }

    /**
     * Whether the writer stores each chain of nodes that repeats (a computed kernel's chain, an activation's
     * QuantizeLinear/DequantizeLinear pair) once, as an ONNX model-local function (IR version 8), and calls
     * it where it occurred: a smaller file for runtimes that read local functions (ONNX Runtime inlines them
     * at load). The graph itself is unchanged; reading the file back inlines the calls.
     */
    public boolean localFunctions() {
        return localFunctions;
    }

    public void setLocalFunctions(boolean on) {
        this.localFunctions = on;
    }
}
