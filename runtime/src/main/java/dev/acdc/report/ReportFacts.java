package dev.acdc.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures both reports show, read from the JSON report of {@code acdc-compress} (the one source of
 * truth: the Markdown and HTML reports never compute anything the JSON does not hold).
 */
record ReportFacts(Map<String, Object> json) {

    Map<?, ?> section(String key) {
        return json.get(key) instanceof Map<?, ?> m ? m : Map.of();
    }

    List<Map<?, ?>> list(Map<?, ?> m, String key) {
        List<Map<?, ?>> r = new ArrayList<>();
        if (m.get(key) instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> x) {
                    r.add(x);
                }
            }
        }
        return r;
    }

    static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Per-convolution rows: name, kernel, set, dense params, params after (the set's share), rel. error, note. */
    List<Map<String, Object>> convRows() {
        Map<String, Map<?, ?>> sets = new LinkedHashMap<>();
        for (Map<?, ?> s : list(json, "sets")) {
            sets.put(String.valueOf(s.get("id")), s);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<?, ?> c : list(json, "convs")) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", c.get("name"));
            r.put("kernel", c.get("kernel"));
            r.put("before", num(c.get("denseParams")));
            boolean dec = Boolean.TRUE.equals(c.get("decomposed"));
            r.put("decomposed", dec);
            if (dec) {
                Map<?, ?> s = sets.get(String.valueOf(c.get("set")));
                int members = s != null && s.get("convs") instanceof List<?> l ? l.size() : 1;
                r.put("set", c.get("set"));
                r.put("after", s == null ? Double.NaN : num(s.get("acdcParams")) / members);
                r.put("relError", num(c.get("relError")));
                r.put("relErrorSvd", num(c.get("relErrorSvd")));
                r.put("outputErrorSvd", num(c.get("outputErrorSvd")));
                r.put("outputError", num(c.get("outputError")));
            } else {
                r.put("after", num(c.get("denseParams")));
                r.put("note", c.get("reason"));
            }
            rows.add(r);
        }
        return rows;
    }
}
