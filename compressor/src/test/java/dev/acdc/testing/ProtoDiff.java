package dev.acdc.testing;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;

import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/** The path of the first difference between two protobuf messages, for readable test failures. */
public final class ProtoDiff {
    private ProtoDiff() {
    }

    public static String first(Message a, Message b) {
        return diff(a, b, "");
    }

    private static String diff(Message a, Message b, String path) {
        if (!a.getUnknownFields().equals(b.getUnknownFields())) {
            return path + " (unknown fields)";
        }
        TreeSet<String> names = new TreeSet<>();
        for (FieldDescriptor f : a.getAllFields().keySet()) {
            names.add(f.getName());
        }
        for (FieldDescriptor f : b.getAllFields().keySet()) {
            names.add(f.getName());
        }
        for (String n : names) {
            FieldDescriptor f = a.getDescriptorForType().findFieldByName(n);
            boolean ha = f.isRepeated() ? a.getRepeatedFieldCount(f) > 0 : a.hasField(f);
            boolean hb = f.isRepeated() ? b.getRepeatedFieldCount(f) > 0 : b.hasField(f);
            if (ha != hb) {
                return path + "." + n + " present " + ha + " vs " + hb;
            }
            Object va = a.getField(f);
            Object vb = b.getField(f);
            if (f.isRepeated()) {
                List<?> la = (List<?>) va;
                List<?> lb = (List<?>) vb;
                if (la.size() != lb.size()) {
                    return path + "." + n + " size " + la.size() + " vs " + lb.size();
                }
                for (int i = 0; i < la.size(); i++) {
                    String d = element(la.get(i), lb.get(i), path + "." + n + "[" + i + "]");
                    if (d != null) {
                        return d;
                    }
                }
            } else {
                String d = element(va, vb, path + "." + n);
                if (d != null) {
                    return d;
                }
            }
        }
        return null;
    }

    private static String element(Object a, Object b, String path) {
        if (a instanceof Message ma && b instanceof Message mb) {
            return diff(ma, mb, path);
        }
        return Objects.equals(a, b) ? null : path + ": " + a + " vs " + b;
    }
}
