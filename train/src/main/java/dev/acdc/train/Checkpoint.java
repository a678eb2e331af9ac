package dev.acdc.train;

import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.util.AtomicFiles;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.util.Json;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A fine-tuning checkpoint, written after every epoch into a folder, every file named
 * {@code acdc-checkpoint-*} so it never meets a user's file: {@code -model.onnx} (the student with the
 * epoch's weights), {@code -best.onnx} (the kept epoch's), {@code -optimizer.bin} (momentum buffers) and
 * {@code -state.json} (format marker, epoch,
 * step, best epoch so far). Every file is written atomically. Data order and augmentation are seeded by
 * (seed, epoch) and the learning rate by the step, so a resumed run continues exactly where it stopped.
 */
public final class Checkpoint {
    /**
     * What a checkpoint restores: the last finished epoch, the global step, the best epoch so far, and, for
     * a run stopped inside an epoch, how many of the next epoch's batches are done with their loss sum.
     */
    public record State(int epoch, int step, int bestEpoch, double bestTop1, List<Map<String, Object>> records,
                        int batchesDone, double lossSum, double epochSeconds) {
    }

    public static final String MODEL = "acdc-checkpoint-model.onnx";
    public static final String BEST = "acdc-checkpoint-best.onnx";
    public static final String OPTIMIZER = "acdc-checkpoint-optimizer.bin";
    public static final String STATE = "acdc-checkpoint-state.json";
    /** Every file a checkpoint writes. */
    public static final List<String> FILES = List.of(MODEL, BEST, OPTIMIZER, STATE);
    private static final String FORMAT = "acdc-checkpoint-1";

    private Checkpoint() {
    }

    /** Whether {@code dir} holds a checkpoint acdc wrote (its state file with the format marker). */
    public static boolean isCheckpoint(Path dir) {
        return hasFormat(dir.resolve(STATE), FORMAT);
    }

    /** Whether {@code state} is a state file acdc wrote: a readable JSON file holding the marker {@code format}. */
    public static boolean hasFormat(Path state, String format) {
        try {
            return Files.isRegularFile(state) && Files.size(state) < 64 << 20
                    && Files.readString(state).contains("\"" + format + "\"");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static void save(Path dir, Model student, TrainingBackend backend, State s, Map<String, Tensor> best) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new AcdcException("cannot create checkpoint folder " + dir + ": " + e.getMessage());
        }
        OnnxModels.save(student, dir.resolve(MODEL), null);
        if (best != null) {
            Model copy = OnnxModels.fromBytes(OnnxModels.toBytes(student), null);
            best.values().forEach(copy.graph()::putInitializer);
            OnnxModels.save(copy, dir.resolve(BEST), null);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            Map<String, Tensor> st = backend.optimizerState();
            out.writeInt(backend.optimizerSteps());
            out.writeInt(st.size());
            for (Map.Entry<String, Tensor> e : st.entrySet()) {
                out.writeUTF(e.getKey());
                long[] shape = e.getValue().shape();
                out.writeInt(shape.length);
                for (long d : shape) {
                    out.writeLong(d);
                }
                for (float f : e.getValue().floats()) {
                    out.writeFloat(f);
                }
            }
        } catch (IOException e) {
            throw new AcdcException("cannot write checkpoint: " + e.getMessage());
        }
        AtomicFiles.write(dir.resolve(OPTIMIZER), bytes.toByteArray(), null);
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("format", FORMAT);
        j.put("epoch", s.epoch());
        j.put("step", s.step());
        j.put("bestEpoch", s.bestEpoch());
        j.put("bestTop1", s.bestTop1());
        j.put("records", s.records());
        j.put("batchesDone", s.batchesDone());
        j.put("lossSum", s.lossSum());
        j.put("epochSeconds", s.epochSeconds());
        Json.write(j, dir.resolve(STATE));
    }

    /** A JSON number, or NaN written as a string. */
    public static double num(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        return o == null ? Double.NaN : Double.parseDouble(o.toString());
    }

    /** A checkpoint's contents: state, optimizer buffers and step count, best weights (may be null). */
    record Loaded(State state, Map<String, Tensor> optimizer, int optimizerSteps, Map<String, Tensor> best) {
    }

    /** Reads a checkpoint; the student's weights are replaced by the checkpoint's. */
    @SuppressWarnings("unchecked")
    static Loaded load(Path dir, Model student) {
        Path model = dir.resolve(MODEL);
        if (!Files.isRegularFile(model) || !Files.isRegularFile(dir.resolve(STATE))) {
            throw new AcdcException("no checkpoint to resume in " + dir);
        }
        Model saved = OnnxModels.load(model);
        for (Tensor t : saved.graph().initializers().values()) {
            if (student.graph().isInitializer(t.name())) {
                student.graph().putInitializer(t);
            }
        }
        Map<String, Tensor> st = new LinkedHashMap<>();
        int steps;
        try (DataInputStream in = new DataInputStream(Files.newInputStream(dir.resolve(OPTIMIZER)))) {
            steps = in.readInt();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String key = in.readUTF();
                long[] shape = new long[in.readInt()];
                long len = 1;
                for (int k = 0; k < shape.length; k++) {
                    shape[k] = in.readLong();
                    len *= shape[k];
                }
                float[] v = new float[(int) len];
                for (int k = 0; k < v.length; k++) {
                    v[k] = in.readFloat();
                }
                st.put(key, Tensor.ofFloats(key, shape, v));
            }
        } catch (IOException e) {
            throw new AcdcException("cannot read checkpoint " + dir + ": " + e.getMessage());
        }
        Map<String, Tensor> best = null;
        if (Files.isRegularFile(dir.resolve(BEST))) {
            best = new LinkedHashMap<>(OnnxModels.load(dir.resolve(BEST)).graph().initializers());
        }
        try {
            Map<String, Object> j = Json.mapper().readValue(dir.resolve(STATE).toFile(), Map.class);
            State s = new State((int) num(j.get("epoch")), (int) num(j.get("step")), (int) num(j.get("bestEpoch")),
                    num(j.get("bestTop1")), (List<Map<String, Object>>) j.get("records"),
                    j.get("batchesDone") == null ? 0 : (int) num(j.get("batchesDone")),
                    j.get("lossSum") == null ? 0 : num(j.get("lossSum")),
                    j.get("epochSeconds") == null ? 0 : num(j.get("epochSeconds")));
            return new Loaded(s, st, steps, best);
        } catch (IOException | RuntimeException e) {
            throw new AcdcException("cannot read checkpoint state " + dir.resolve(STATE) + ": " + e.getMessage());
        }
    }
}
