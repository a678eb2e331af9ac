package dev.acdc.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.acdc.AcdcException;

import java.nio.file.Path;

/** JSON for reports: pretty, stable key order, written atomically. */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY) // records' fields in the same order as maps' keys
            .addModule(finiteNumbers())
            .build();

    /**
     * NaN and ±Infinity are written as null ("no value"), not as the strings Jackson writes by default: a
     * report never holds a non-number where a number belongs.
     */
    private static com.fasterxml.jackson.databind.Module finiteNumbers() {
        com.fasterxml.jackson.databind.JsonSerializer<Number> finite = new com.fasterxml.jackson.databind.JsonSerializer<>() {
            @Override
            public void serialize(Number v, com.fasterxml.jackson.core.JsonGenerator g,
                                  com.fasterxml.jackson.databind.SerializerProvider p) throws java.io.IOException {
                if (v == null || !Double.isFinite(v.doubleValue())) {
                    g.writeNull();
                } else if (v instanceof Float f) {
                    g.writeNumber(f); // a float's own shortest digits, not its double expansion
                } else {
                    g.writeNumber(v.doubleValue());
                }
            }
        };
        com.fasterxml.jackson.databind.module.SimpleModule m = new com.fasterxml.jackson.databind.module.SimpleModule("finite");
        for (Class<?> c : new Class<?>[] {Double.class, Double.TYPE, Float.class, Float.TYPE}) {
            @SuppressWarnings("unchecked")
            Class<Number> n = (Class<Number>) c;
            m.addSerializer(n, finite);
        }
        return m;
    }

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw AcdcException.internal("cannot serialise report: " + e.getMessage());
        }
    }

    /** One line, no indentation: for values stored inside a model file (metadata), where bytes count. */
    public static String compact(Object value) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw AcdcException.internal("cannot serialise metadata: " + e.getMessage());
        }
    }

    public static void write(Object value, Path file) {
        AtomicFiles.writeString(file, write(value) + "\n");
    }
}
