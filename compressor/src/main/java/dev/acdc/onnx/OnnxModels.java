package dev.acdc.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;
import dev.acdc.ir.ValueInfo;
import dev.acdc.onnx.proto.OnnxProto.AttributeProto;
import dev.acdc.onnx.proto.OnnxProto.GraphProto;
import dev.acdc.onnx.proto.OnnxProto.ModelProto;
import dev.acdc.onnx.proto.OnnxProto.NodeProto;
import dev.acdc.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.acdc.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.acdc.onnx.proto.OnnxProto.TensorProto;
import dev.acdc.onnx.proto.OnnxProto.TensorShapeProto;
import dev.acdc.onnx.proto.OnnxProto.TypeProto;
import dev.acdc.onnx.proto.OnnxProto.ValueInfoProto;
import dev.acdc.util.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes ONNX model files. This package is the only place that sees protobuf types: callers
 * get and give a {@link Model}. Every element keeps the protobuf it was read from, so fields acdc does
 * not model (doc strings, unknown fields, training info) survive a load → save round trip. Calls of
 * model-local functions are inlined when a model is read ({@link LocalFunctions}).
 */
public final class OnnxModels {
    /** IR versions this reader accepts. */
    public static final int MIN_IR = 3;
    public static final int MAX_IR = 10;

    private OnnxModels() {
    }

    /** Loads a model file; external data are read from its folder. */
    public static Model load(Path file) {
        if (!Files.exists(file)) {
            throw new AcdcException("no such file: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new AcdcException("not a file: " + file);
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 8) {
                throw new AcdcException(file + " is " + size + " bytes; ONNX protobuf files are limited to 2 GiB "
                        + "(larger models keep weights in external data files)");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AcdcException("cannot read " + file + ": " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().getParent();
        try {
            return fromBytes(bytes, dir);
        } catch (AcdcException e) {
            throw new AcdcException(file.getFileName() + ": " + e.getMessage(), e.getCause());
        }
    }

    /**
     * The bytes of a model file as a runtime session should get them: the file itself, or, when any
     * initializer is stored in an external data file, the model with that data read from the model's
     * folder and inlined. (ONNX Runtime resolves external data of a model given as bytes against the
     * working directory, so the file's own bytes work only when run from the model's folder.) A file that
     * does not parse is returned as it is, for the loader to name the problem.
     */
    public static byte[] runtimeBytes(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AcdcException(Files.exists(file) ? "not a file: " + file : "no such file: " + file);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AcdcException("cannot read " + file + ": " + e.getMessage());
        }
        boolean external;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(64);
            external = usesExternalData(ModelProto.parseFrom(in).getGraph());
        } catch (IOException | RuntimeException e) {
            return bytes;
        }
        return external ? toBytes(load(file)) : bytes;
    }

    private static boolean usesExternalData(dev.acdc.onnx.proto.OnnxProto.GraphProto g) {
        for (var t : g.getInitializerList()) {
            if (t.getDataLocation() == dev.acdc.onnx.proto.OnnxProto.TensorProto.DataLocation.EXTERNAL
                    || t.getExternalDataCount() > 0) {
                return true;
            }
        }
        for (var n : g.getNodeList()) {
            for (var a : n.getAttributeList()) {
                if (a.hasT() && (a.getT().getDataLocation() == dev.acdc.onnx.proto.OnnxProto.TensorProto.DataLocation.EXTERNAL
                        || a.getT().getExternalDataCount() > 0)) {
                    return true;
                }
                if (a.hasG() && usesExternalData(a.getG())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Parses a model from bytes; {@code baseDir} (may be null) is where external data live. */
    public static Model fromBytes(byte[] bytes, Path baseDir) {
        if (bytes.length == 0) {
            throw new AcdcException("the file is empty, not an ONNX model");
        }
        ModelProto proto;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(64);
            proto = ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            String why = e.getMessage() == null ? "" : e.getMessage();
            if (why.contains("ended unexpectedly") || why.contains("truncated")) {
                throw new AcdcException("not a complete ONNX model: the file is truncated or corrupt");
            }
            throw new AcdcException("not an ONNX model: the file is not a valid protobuf message ("
                    + firstLine(why) + ")");
        } catch (IOException e) {
            throw new AcdcException("not an ONNX model: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new AcdcException("not an ONNX model: the protobuf message is malformed (" + e.getClass().getSimpleName() + ")");
        }
        if (!proto.hasGraph() || proto.getIrVersion() <= 0) {
            throw new AcdcException("a protobuf message but not an ONNX model (it has no "
                    + (proto.hasGraph() ? "ir_version" : "graph") + ")");
        }
        long ir = proto.getIrVersion();
        if (ir < MIN_IR || ir > MAX_IR) {
            throw new AcdcException("IR version " + ir + " is not supported (acdc reads IR versions " + MIN_IR + "-"
                    + MAX_IR + ")");
        }
        return toModel(LocalFunctions.inline(proto), baseDir);
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    /** The serialized bytes of a model. */
    public static byte[] toBytes(Model m) {
        ModelProto p = toProto(m);
        if (p.getSerializedSize() < 0) {
            throw new AcdcException("the model is larger than 2 GiB and cannot be written as one protobuf file");
        }
        return p.toByteArray();
    }

    /**
     * Writes a model atomically: to a temporary file in the target folder, then moved into place.
     * Refuses to replace {@code protect} (the input model) and to write into a missing folder.
     */
    public static long save(Model m, Path out, Path protect) {
        return save(m, out, protect, null);
    }

    /**
     * Saves atomically; {@code verify} (may be null) checks the written temporary file before it takes the
     * output's name, and a failed check leaves no output (see {@link AtomicFiles}).
     */
    public static long save(Model m, Path out, Path protect, java.util.function.Consumer<Path> verify) {
        byte[] bytes = toBytes(m);
        AtomicFiles.write(out, bytes, protect, verify);
        return bytes.length;
    }

    // ---------------------------------------------------------------- reading

    private static Model toModel(ModelProto p, Path baseDir) {
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : p.getOpsetImportList()) {
            opsets.put(o.getDomain(), o.getVersion());
        }
        if (opsets.isEmpty()) {
            // IR 3 models without opset_import are read as opset 1 by the spec; we refuse that later
            opsets.put("", 1L);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (StringStringEntryProto e : p.getMetadataPropsList()) {
            meta.put(e.getKey(), e.getValue());
        }
        Graph g = toGraph(p.getGraph(), baseDir);
        return new Model(p.getIrVersion(), opsets, p.getProducerName(), p.getProducerVersion(), meta, g, p);
    }

    /**
     * Bytes of decoded weights a load may allocate: 3/4 of the JVM's maximum heap, or the system property
     * {@code acdc.memoryBudget} (bytes).
     */
    public static long memoryBudget() {
        String p = System.getProperty("acdc.memoryBudget");
        if (p != null) {
            try {
                return Long.parseLong(p.trim());
            } catch (NumberFormatException e) {
                throw new AcdcException("acdc.memoryBudget must be a number of bytes, got '" + p + "'");
            }
        }
        return Runtime.getRuntime().maxMemory() / 4 * 3;
    }

    /** Refuses, before anything is allocated, a graph whose declared weights exceed {@link #memoryBudget()}. */
    private static void checkDeclaredSize(GraphProto gp) {
        long total = 0;
        for (TensorProto t : gp.getInitializerList()) {
            DataType type = DataType.of(t.getDataType());
            if (!type.isNumeric()) {
                continue;
            }
            long n = Math.max(type.bytes(), 4); // small integer types decode into int arrays
            for (long d : t.getDimsList()) {
                n = d <= 0 ? 0 : n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d;
            }
            total = total > Long.MAX_VALUE - n ? Long.MAX_VALUE : total + n;
        }
        long budget = memoryBudget();
        if (total > budget) {
            throw new AcdcException("the model declares " + (total >> 20) + " MiB of weights, more than the memory "
                    + "budget of " + (budget >> 20) + " MiB (give the JVM more with ACDC_JAVA_OPTS=-Xmx…)");
        }
    }

    private static Graph toGraph(GraphProto gp, Path baseDir) {
        Graph g = new Graph(gp.getName(), gp);
        checkDeclaredSize(gp);
        for (TensorProto t : gp.getInitializerList()) {
            Tensor tensor = TensorCodec.decode(t, baseDir, "initializer");
            if (tensor.name().isEmpty()) {
                throw new AcdcException("an initializer has no name");
            }
            g.putInitializer(tensor);
        }
        for (ValueInfoProto v : gp.getInputList()) {
            g.inputs().add(toValueInfo(v));
        }
        for (ValueInfoProto v : gp.getOutputList()) {
            g.outputs().add(toValueInfo(v));
        }
        for (ValueInfoProto v : gp.getValueInfoList()) {
            g.valueInfo().add(toValueInfo(v));
        }
        for (NodeProto n : gp.getNodeList()) {
            List<Attribute> attrs = new ArrayList<>();
            for (AttributeProto a : n.getAttributeList()) {
                attrs.add(toAttribute(a, baseDir, n));
            }
            g.nodes().add(new Node(n.getName(), n.getOpType(), n.getDomain(), n.getInputList(), n.getOutputList(),
                    attrs, n));
        }
        List<String> initializerNames = new ArrayList<>();
        for (TensorProto t : gp.getInitializerList()) {
            initializerNames.add(t.getName());
        }
        // some writers (onnxconverter-common's float16 pass) leave nodes out of order; ONNX Runtime sorts them
        g.sortOnRead();
        dev.acdc.ir.Validity.check(g, initializerNames);
        return g;
    }

    private static ValueInfo toValueInfo(ValueInfoProto v) {
        DataType type = DataType.UNDEFINED;
        List<ValueInfo.Dim> dims = null;
        if (v.hasType() && v.getType().hasTensorType()) {
            TypeProto.Tensor tt = v.getType().getTensorType();
            type = DataType.of(tt.getElemType());
            if (tt.hasShape()) {
                dims = new ArrayList<>();
                for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
                    if (d.hasDimValue()) {
                        dims.add(ValueInfo.Dim.of(d.getDimValue()));
                    } else {
                        dims.add(ValueInfo.Dim.symbol(d.hasDimParam() ? d.getDimParam() : null));
                    }
                }
            }
        }
        return new ValueInfo(v.getName(), type, dims, v);
    }

    private static Attribute toAttribute(AttributeProto a, Path baseDir, NodeProto n) {
        AttributeProto.AttributeType t = a.getType();
        if (t == AttributeProto.AttributeType.UNDEFINED) {
            t = inferType(a);
        }
        String name = a.getName();
        return switch (t) {
            case FLOAT -> Attribute.decoded(name, Attribute.Kind.FLOAT, a.getF(), a);
            case INT -> Attribute.decoded(name, Attribute.Kind.INT, a.getI(), a);
            case STRING -> Attribute.decoded(name, Attribute.Kind.STRING, a.getS().toString(StandardCharsets.UTF_8), a);
            case FLOATS -> {
                float[] f = new float[a.getFloatsCount()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = a.getFloats(i);
                }
                yield Attribute.decoded(name, Attribute.Kind.FLOATS, f, a);
            }
            case INTS -> {
                long[] l = new long[a.getIntsCount()];
                for (int i = 0; i < l.length; i++) {
                    l[i] = a.getInts(i);
                }
                yield Attribute.decoded(name, Attribute.Kind.INTS, l, a);
            }
            case STRINGS -> {
                List<String> s = new ArrayList<>();
                for (ByteString b : a.getStringsList()) {
                    s.add(b.toString(StandardCharsets.UTF_8));
                }
                yield Attribute.decoded(name, Attribute.Kind.STRINGS, List.copyOf(s), a);
            }
            case TENSOR -> Attribute.decoded(name, Attribute.Kind.TENSOR,
                    TensorCodec.decode(a.getT(), baseDir, "attribute " + name + " of node '" + n.getName() + "'"), a);
            default -> Attribute.decoded(name, Attribute.Kind.OPAQUE, null, a);
        };
    }

    /** IR 3 files may leave the attribute type unset; infer it from the field present. */
    private static AttributeProto.AttributeType inferType(AttributeProto a) {
        if (a.hasF()) {
            return AttributeProto.AttributeType.FLOAT;
        }
        if (a.hasI()) {
            return AttributeProto.AttributeType.INT;
        }
        if (a.hasS()) {
            return AttributeProto.AttributeType.STRING;
        }
        if (a.hasT()) {
            return AttributeProto.AttributeType.TENSOR;
        }
        if (a.getFloatsCount() > 0) {
            return AttributeProto.AttributeType.FLOATS;
        }
        if (a.getIntsCount() > 0) {
            return AttributeProto.AttributeType.INTS;
        }
        if (a.getStringsCount() > 0) {
            return AttributeProto.AttributeType.STRINGS;
        }
        return AttributeProto.AttributeType.UNDEFINED;
    }

    // ---------------------------------------------------------------- writing

    static ModelProto toProto(Model m) {
        ModelProto.Builder b = m.source() instanceof ModelProto p ? p.toBuilder() : ModelProto.newBuilder();
        b.setIrVersion(m.irVersion());
        Map<String, OperatorSetIdProto> kept = new LinkedHashMap<>();
        for (OperatorSetIdProto o : b.getOpsetImportList()) {
            kept.put(o.getDomain(), o);
        }
        b.clearOpsetImport();
        for (Map.Entry<String, Long> e : m.opsets().entrySet()) {
            OperatorSetIdProto old = kept.get(e.getKey());
            b.addOpsetImport(old != null && old.getVersion() == e.getValue() ? old
                    : OperatorSetIdProto.newBuilder().setDomain(e.getKey()).setVersion(e.getValue()).build());
        }
        if (!m.producerName().isEmpty() || b.hasProducerName()) {
            b.setProducerName(m.producerName());
        }
        if (!m.producerVersion().isEmpty() || b.hasProducerVersion()) {
            b.setProducerVersion(m.producerVersion());
        }
        b.clearMetadataProps();
        for (Map.Entry<String, String> e : m.metadata().entrySet()) {
            b.addMetadataProps(StringStringEntryProto.newBuilder().setKey(e.getKey()).setValue(e.getValue()));
        }
        b.setGraph(toProto(m.graph()));
        return m.localFunctions() ? LocalFunctions.outline(b.build()) : b.build();
    }

    private static GraphProto toProto(Graph g) {
        GraphProto.Builder b = g.source() instanceof GraphProto p ? p.toBuilder() : GraphProto.newBuilder();
        b.setName(g.name());
        b.clearNode().clearInitializer().clearInput().clearOutput().clearValueInfo();
        for (Node n : g.nodes()) {
            b.addNode(toProto(n));
        }
        for (Tensor t : g.initializers().values()) {
            b.addInitializer(TensorCodec.encode(t));
        }
        for (ValueInfo v : g.inputs()) {
            b.addInput(toProto(v));
        }
        for (ValueInfo v : g.outputs()) {
            b.addOutput(toProto(v));
        }
        for (ValueInfo v : g.valueInfo()) {
            b.addValueInfo(toProto(v));
        }
        return b.build();
    }

    private static NodeProto toProto(Node n) {
        NodeProto.Builder b = n.source() instanceof NodeProto p ? p.toBuilder() : NodeProto.newBuilder();
        b.clearInput().clearOutput().clearAttribute();
        if (!n.name().isEmpty() || b.hasName()) {
            b.setName(n.name());
        }
        b.setOpType(n.opType());
        if (!n.domain().isEmpty() || b.hasDomain()) {
            b.setDomain(n.domain());
        }
        b.addAllInput(n.inputs()).addAllOutput(n.outputs());
        for (Attribute a : n.attributes().values()) {
            b.addAttribute(toProto(a));
        }
        return b.build();
    }

    private static AttributeProto toProto(Attribute a) {
        if (a.source() instanceof AttributeProto p) {
            return p;
        }
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(a.name());
        switch (a.kind()) {
            case INT -> b.setType(AttributeProto.AttributeType.INT).setI(a.asInt());
            case FLOAT -> b.setType(AttributeProto.AttributeType.FLOAT).setF(a.asFloat());
            case STRING -> b.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(a.asString()));
            case INTS -> {
                b.setType(AttributeProto.AttributeType.INTS);
                for (long v : a.asInts()) {
                    b.addInts(v);
                }
            }
            case FLOATS -> {
                b.setType(AttributeProto.AttributeType.FLOATS);
                for (float v : a.asFloats()) {
                    b.addFloats(v);
                }
            }
            case STRINGS -> {
                b.setType(AttributeProto.AttributeType.STRINGS);
                for (String s : a.asStrings()) {
                    b.addStrings(ByteString.copyFromUtf8(s));
                }
            }
            case TENSOR -> b.setType(AttributeProto.AttributeType.TENSOR).setT(TensorCodec.encode(a.asTensor()));
            default -> throw new IllegalStateException("opaque attribute " + a.name() + " without source");
        }
        return b.build();
    }

    private static ValueInfoProto toProto(ValueInfo v) {
        if (v.source() instanceof ValueInfoProto p && p.getName().equals(v.name())) {
            return p;
        }
        if (v.elemType() == DataType.UNDEFINED && v.dims() == null) {
            return ValueInfoProto.newBuilder().setName(v.name()).build(); // nothing known: type left to the runtime
        }
        TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder().setElemType(v.elemType().code());
        if (v.dims() != null) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (ValueInfo.Dim d : v.dims()) {
                TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
                if (d.known()) {
                    db.setDimValue(d.value());
                } else if (d.param() != null) {
                    db.setDimParam(d.param());
                }
                s.addDim(db);
            }
            tt.setShape(s);
        }
        return ValueInfoProto.newBuilder().setName(v.name()).setType(TypeProto.newBuilder().setTensorType(tt)).build();
    }
}
