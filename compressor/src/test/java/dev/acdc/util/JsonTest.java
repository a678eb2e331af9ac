package dev.acdc.util;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    /** A report never holds "NaN" or "Infinity" where a number belongs: non-finite values are null, finite ones exact. */
    @Test
    void nonFiniteNumbersAreNull() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ratio", Double.POSITIVE_INFINITY);
        m.put("drop", Double.NaN);
        m.put("f", Float.NEGATIVE_INFINITY);
        m.put("ok", 0.1);
        m.put("list", List.of(1.5, Double.NaN));
        for (String s : List.of(Json.write(m), Json.compact(m))) {
            assertFalse(s.contains("NaN") || s.contains("Infinity"), s);
            var j = Json.mapper().readTree(s);
            assertTrue(j.get("ratio").isNull() && j.get("drop").isNull() && j.get("f").isNull(), s);
            assertEquals(0.1, j.get("ok").asDouble(), 0);
            assertTrue(j.get("list").get(1).isNull());
            assertEquals(1.5, j.get("list").get(0).asDouble(), 0);
        }
        assertFalse(Json.compact(m).contains("\n"), "one line");
    }
}
