package dev.acdc.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.acdc.AcdcException;
import dev.acdc.onnx.AtomicFiles;

import java.nio.file.Path;

/** JSON for reports: pretty, stable key order, written atomically. */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

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
