package dev.acdc.runtime.recovery;

import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.train.SegmentTrainer;
import dev.acdc.util.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.acdc.train.Checkpoint.num;

/**
 * Where block recovery keeps the segments it has finished, so that a stopped run continues instead of
 * starting again: {@code acdc-recovery-model.onnx} (the compressed model with the finished segments'
 * weights) and {@code acdc-recovery-state.json} (format marker, the run's fingerprint, how many segments
 * are done and their rows), each written atomically. {@code folder} gets them after every finished
 * segment when {@code everySegment} (the user gave {@code --checkpoint DIR}), else only when a stop is asked
 * for; {@code resume} continues from them.
 * <p>
 * The fingerprint hashes what decides the segments' training: the fitted model's bytes, the recovery
 * settings and the calibration images. A checkpoint of another run (another model, fit, setting or sample)
 * is refused, so that a resumed run ends with the weights the uninterrupted one would have had.
 */
public record RecoveryCheckpoint(Path folder, boolean everySegment, boolean resume) {
    public static final String MODEL = "acdc-recovery-model.onnx";
    public static final String STATE = "acdc-recovery-state.json";
    /** Every file the stage writes into the folder. */
    public static final List<String> FILES = List.of(MODEL, STATE);
    private static final String FORMAT = "acdc-recovery-1";

    public RecoveryCheckpoint {
        if (folder == null) {
            throw new IllegalArgumentException("a recovery checkpoint needs a folder");
        }
    }

    /** What a checkpoint restores: the segments done (in the stage's order) and their rows. */
    record State(int done, List<BlockRecovery.SegmentResult> segments, double seconds) {
    }

    /** Whether {@code dir} holds a recovery checkpoint acdc wrote (its state file with the format marker). */
    public static boolean isCheckpoint(Path dir) {
        return dev.acdc.train.Checkpoint.hasFormat(dir.resolve(STATE), FORMAT);
    }

    /** The hash of the fitted {@code student}, the settings' {@code spec} and the images. */
    static String fingerprint(Model student, String spec, float[] images, int count) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(OnnxModels.toBytes(student));
            d.update(spec.getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.allocate(4 * 4096 + 8).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(count);
            for (float f : images) {
                if (!b.hasRemaining()) {
                    d.update(b.flip());
                    b.clear();
                }
                b.putFloat(f);
            }
            d.update(b.flip());
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw AcdcException.internal("no SHA-256: " + e.getMessage());
        }
    }

    /** Writes the state after {@code done} segments: {@code student}'s weights and the rows so far. */
    void save(Model student, String fingerprint, int done, List<BlockRecovery.SegmentResult> rows, double seconds) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new AcdcException("cannot create checkpoint folder " + folder + ": " + e.getMessage());
        }
        OnnxModels.save(student, folder.resolve(MODEL), null);
        List<Map<String, Object>> segs = new ArrayList<>();
        for (BlockRecovery.SegmentResult s : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("input", s.input());
            m.put("output", s.output());
            m.put("convs", s.convs());
            m.put("images", s.images());
            m.put("before", s.fit().before());
            m.put("after", s.fit().after());
            m.put("kept", s.fit().kept());
            m.put("steps", s.fit().steps());
            m.put("trained", s.fit().trained());
            m.put("heldOut", s.fit().heldOut());
            m.put("seconds", s.fit().seconds());
            m.put("frozen", s.frozen());
            segs.add(m);
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("format", FORMAT);
        j.put("fingerprint", fingerprint);
        j.put("done", done);
        j.put("seconds", seconds);
        j.put("segments", segs);
        Json.write(j, folder.resolve(STATE)); // last: the model it names is in place before it
    }

    /**
     * The state saved for the run of {@code fingerprint}, its weights put into {@code student}; refused
     * (exit 2, nothing changed) where the folder holds none or one of another run.
     */
    @SuppressWarnings("unchecked")
    State load(Model student, String fingerprint) {
        if (!isCheckpoint(folder) || !Files.isRegularFile(folder.resolve(MODEL))) {
            throw new AcdcException("--resume: " + folder + " holds no block-recovery checkpoint (" + STATE + " and "
                    + MODEL + "); run without --resume to start the recovery");
        }
        Map<String, Object> j;
        try {
            j = Json.mapper().readValue(folder.resolve(STATE).toFile(), Map.class);
        } catch (IOException | RuntimeException e) {
            throw new AcdcException("--resume: cannot read " + folder.resolve(STATE) + ": " + e.getMessage());
        }
        if (!fingerprint.equals(j.get("fingerprint"))) {
            throw new AcdcException("--resume: the block-recovery checkpoint in " + folder + " is of another run (the "
                    + "fitted model, the recovery settings or the calibration images differ); rerun with the options "
                    + "of the stopped run, or without --resume to start again");
        }
        Model saved = OnnxModels.load(folder.resolve(MODEL));
        for (Tensor t : saved.graph().initializers().values()) {
            if (!student.graph().isInitializer(t.name())) {
                throw new AcdcException("--resume: the checkpoint's weight " + t.name() + " is not in the model");
            }
        }
        saved.graph().initializers().values().forEach(student.graph()::putInitializer);
        List<BlockRecovery.SegmentResult> rows = new ArrayList<>();
        for (Map<String, Object> m : (List<Map<String, Object>>) j.get("segments")) {
            SegmentTrainer.Result fit = new SegmentTrainer.Result(num(m.get("before")), num(m.get("after")),
                    Boolean.TRUE.equals(m.get("kept")), (int) num(m.get("steps")), (int) num(m.get("trained")),
                    (int) num(m.get("heldOut")), num(m.get("seconds")));
            rows.add(new BlockRecovery.SegmentResult((String) m.get("input"), (String) m.get("output"),
                    (int) num(m.get("convs")), (int) num(m.get("images")), fit, (List<String>) m.get("frozen")));
        }
        return new State((int) num(j.get("done")), rows, num(j.get("seconds")));
    }
}
