package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one check every command makes, before any work, on every path it will write: the folder exists,
 * and the path is none of the files the command reads (models, teacher, every data file) nor another
 * output of the same run — compared as the same file (through links, hard links and case-folding file
 * systems) where it exists, and as the same normalised absolute path where it does not yet. A
 * checkpoint folder may not hold any input, and only files the checkpoint writes go into it.
 */
public final class OutputGuard {
    private final List<Path> inputs = new ArrayList<>();
    private final List<Path> outputs = new ArrayList<>();

    /** Files the command reads. */
    public OutputGuard reads(Path... files) {
        for (Path f : files) {
            if (f != null) {
                inputs.add(f);
            }
        }
        return this;
    }

    /** The files of a data SPEC (null: none). */
    public OutputGuard readsData(String spec) {
        if (spec != null) {
            inputs.addAll(dev.acdc.data.DataSpec.files(spec));
        }
        return this;
    }

    /** Checks and records an output path (null: none); returns it. */
    public Path writes(Path out) {
        if (out == null) {
            return null;
        }
        if (out.toString().isBlank()) {
            throw new AcdcException("the output name is empty; name a file with -o OUT.onnx");
        }
        OutputFiles.checkFolder(out);
        if (Files.isDirectory(out)) {
            throw new AcdcException("output " + out + " is a folder; name a file");
        }
        for (Path in : inputs) {
            if (same(out, in)) {
                String alias = out.toString().equals(in.toString()) ? "" : " (as " + out + ")";
                throw new AcdcException("refusing to overwrite " + in + alias
                        + ", which this command reads; choose another output");
            }
        }
        for (Path o : outputs) {
            if (same(out, o)) {
                throw new AcdcException("two outputs of this command would be the same file: " + o + " and " + out);
            }
        }
        outputs.add(out);
        return out;
    }

    /**
     * A checkpoint folder (null: none): it may not be, or hold, a file the command reads, and every file
     * the checkpoint writes there ({@code names}) must not already exist unless a checkpoint wrote it
     * (its state file, with acdc's format marker).
     */
    public Path checkpointFolder(Path dir, List<String> names) {
        if (dir == null) {
            return null;
        }
        Path abs = dir.toAbsolutePath().normalize();
        for (Path in : inputs) {
            Path parent = in.toAbsolutePath().normalize().getParent();
            if (same(abs, in) || parent != null && same(abs, parent)) {
                throw new AcdcException("refusing --checkpoint " + dir + ": it holds " + in
                        + ", which this command reads; give the checkpoint a folder of its own");
            }
        }
        boolean ours = dev.acdc.train.Checkpoint.isCheckpoint(abs)
                || dev.acdc.runtime.recovery.RecoveryCheckpoint.isCheckpoint(abs);
        for (String name : names) {
            Path f = abs.resolve(name);
            if (Files.exists(f) && !ours) {
                throw new AcdcException("refusing --checkpoint " + dir + ": it holds " + f.getFileName()
                        + ", which no acdc checkpoint wrote; give the checkpoint a folder of its own");
            }
            writesIn(f);
        }
        return dir;
    }

    private void writesIn(Path f) {
        for (Path o : outputs) {
            if (same(f, o)) {
                throw new AcdcException("the checkpoint would overwrite " + o + ", another output of this command");
            }
        }
        outputs.add(f);
    }

    public static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException e) {
            throw new AcdcException("cannot compare paths " + a + " and " + b + ": " + e.getMessage());
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
