package dev.acdc.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One operator application. Inputs and outputs are value names; "" marks an omitted optional input. */
public final class Node {
    private String name;
    private final String opType;
    private final String domain;
    private final List<String> inputs;
    private final List<String> outputs;
    private final Map<String, Attribute> attributes = new LinkedHashMap<>();
    private final Object source;

    public Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                List<Attribute> attributes, Object source) {
        this.name = name == null ? "" : name;
        this.opType = opType;
        this.domain = domain == null ? "" : domain;
        this.inputs = new ArrayList<>(inputs);
        this.outputs = new ArrayList<>(outputs);
        for (Attribute a : attributes) {
            this.attributes.put(a.name(), a);
        }
        this.source = source;
    }

    public Node(String name, String opType, List<String> inputs, List<String> outputs, List<Attribute> attributes) {
        this(name, opType, "", inputs, outputs, attributes, null);
    }

    public String name() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String opType() {
        return opType;
    }

    /** "" for the default ONNX domain (also written "ai.onnx"). */
    public String domain() {
        return domain;
    }

    public boolean isDefaultDomain() {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }

    public boolean is(String op) {
        return opType.equals(op) && isDefaultDomain();
    }

    /** A label for messages: the node's name, or its op and first output when unnamed. */
    public String label() {
        return name.isEmpty() ? opType + "->" + (outputs.isEmpty() ? "?" : outputs.get(0)) : name;
    }

    public List<String> inputs() {
        return Collections.unmodifiableList(inputs);
    }

    public List<String> outputs() {
        return Collections.unmodifiableList(outputs);
    }

    /** Input i, or "" if absent. */
    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    public String output(int i) {
        return outputs.get(i);
    }

    public void setInput(int i, String value) {
        inputs.set(i, value);
    }

    /** Sets input {@code i}, appending it when the node has only {@code i} inputs (e.g. an optional bias). */
    public void setOrAddInput(int i, String value) {
        if (i < inputs.size()) {
            inputs.set(i, value);
        } else if (i == inputs.size()) {
            inputs.add(value);
        } else {
            throw new IllegalArgumentException("input " + i + " of a node with " + inputs.size() + " inputs");
        }
    }

    public void setInputs(List<String> values) {
        inputs.clear();
        inputs.addAll(values);
    }

    public void replaceInput(String from, String to) {
        inputs.replaceAll(s -> s.equals(from) ? to : s);
    }

    public void setOutput(int i, String value) {
        outputs.set(i, value);
    }

    /** Inputs that are present (non-empty names). */
    public int presentInputs() {
        int n = 0;
        for (String s : inputs) {
            if (!s.isEmpty()) {
                n++;
            }
        }
        return n;
    }

    public Map<String, Attribute> attributes() {
        return Collections.unmodifiableMap(attributes);
    }

    public Attribute attribute(String key) {
        return attributes.get(key);
    }

    public boolean has(String key) {
        return attributes.containsKey(key);
    }

    public void setAttribute(Attribute a) {
        attributes.put(a.name(), a);
    }

    public void removeAttribute(String key) {
        attributes.remove(key);
    }

    public long attrInt(String key, long dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : typed(a, a::asInt);
    }

    public float attrFloat(String key, float dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : typed(a, a::asFloat);
    }

    public String attrString(String key, String dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : typed(a, a::asString);
    }

    /** The ints attribute, or {@code dflt} (may be null) when absent. */
    public long[] attrInts(String key, long[] dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : typed(a, a::asInts);
    }

    /** An attribute's value; one of another type than its operator's is bad input, named with its node. */
    private <T> T typed(Attribute a, java.util.function.Supplier<T> value) {
        try {
            return value.get();
        } catch (IllegalStateException e) {
            throw new dev.acdc.AcdcException(opType + " node '" + dev.acdc.util.Text.printable(label()) + "': "
                    + e.getMessage() + "; the file is malformed");
        }
    }

    /** The encoded form this node was read from (opaque outside the ONNX package), or null. */
    public Object source() {
        return source;
    }

    @Override
    public String toString() {
        return opType + "(" + label() + ": " + inputs + " -> " + outputs + ")";
    }
}
