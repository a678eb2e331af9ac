package dev.acdc.passes;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes the attributes that only restate what the ONNX operator defines as their default (a Conv's
 * {@code group=1}, unit strides and dilations, zero pads, and its {@code kernel_shape}, which the
 * specification infers from the weight; a Gemm's {@code alpha=beta=1}; a Flatten's {@code axis=1}...):
 * in a small quantized model each is a few bytes on every node. The function is unchanged by definition;
 * only attributes with the exact default value of the operator's current definition (opset 13 and later,
 * which is what the quantizer writes) are removed. Requires a graph at opset 11 or later (where these
 * defaults hold); ensures it stays well formed.
 */
public final class DropDefaultAttributes implements Pass {
    /** One default: the attribute of {@code ops} that means nothing when every value equals {@code value}. */
    private record Default(Set<String> ops, String attribute, long value) {
    }

    private static final Set<String> SLIDING = Set.of("Conv", "ConvInteger", "MaxPool", "AveragePool", "LpPool");

    private static final List<Default> DEFAULTS = List.of(
            new Default(SLIDING, "strides", 1),
            new Default(SLIDING, "pads", 0),
            new Default(Set.of("Conv", "ConvInteger", "MaxPool"), "dilations", 1),
            new Default(Set.of("Conv", "ConvInteger"), "group", 1),
            new Default(Set.of("MaxPool", "AveragePool"), "ceil_mode", 0),
            new Default(Set.of("AveragePool"), "count_include_pad", 0),
            new Default(Set.of("Gemm"), "transA", 0),
            new Default(Set.of("Gemm"), "transB", 0),
            new Default(Set.of("Flatten"), "axis", 1),
            new Default(Set.of("QuantizeLinear", "DequantizeLinear"), "axis", 1),
            new Default(Set.of("ReduceMean", "ReduceMax", "ReduceSum"), "keepdims", 1));

    private static final Set<String> FLOAT_ONES = Set.of("alpha", "beta");

    @Override
    public String name() {
        return "drop-default-attributes";
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED);
    }

    @Override
    public int run(Model m) {
        if (m.opset() < 11) {
            return 0;
        }
        int removed = 0;
        for (Node n : m.graph().nodes()) {
            if (!n.domain().isEmpty()) {
                continue;
            }
            List<String> drop = new ArrayList<>();
            for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
                if (isDefault(n, e.getValue())) {
                    drop.add(e.getKey());
                }
            }
            for (String a : drop) {
                n.removeAttribute(a);
            }
            removed += drop.size();
        }
        return removed;
    }

    private static boolean isDefault(Node n, Attribute a) {
        if (n.is("Conv") && a.name().equals("kernel_shape")) {
            return true; // "if not present, should be inferred from input W"
        }
        if (n.is("Gemm") && FLOAT_ONES.contains(a.name())) {
            return a.kind() == Attribute.Kind.FLOAT && a.asFloat() == 1f;
        }
        if (a.name().equals("auto_pad") && SLIDING.contains(n.opType())) {
            return a.kind() == Attribute.Kind.STRING && a.asString().equals("NOTSET");
        }
        for (Default d : DEFAULTS) {
            if (!d.ops().contains(n.opType()) || !d.attribute().equals(a.name())) {
                continue;
            }
            if (a.kind() == Attribute.Kind.INT) {
                return a.asInt() == d.value();
            }
            if (a.kind() == Attribute.Kind.INTS) {
                for (long v : a.asInts()) {
                    if (v != d.value()) {
                        return false;
                    }
                }
                return true;
            }
        }
        return false;
    }
}
