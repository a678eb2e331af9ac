package dev.acdc.util;

import dev.acdc.AcdcException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Atomic file writes: the bytes go to a temporary file beside the target, are flushed to disk, and
 * only then replace the target in one rename. A failed or interrupted write leaves the previous file
 * (if any) as it was and no partial file under the target's name.
 */
public final class AtomicFiles {
    /** Test hook: when set, a write throws after this many bytes, as a full disk would. */
    private static volatile long failAfterBytesForTest = -1;

    /** Test hook (see {@link #failAfterBytesForTest}); -1 turns it off. */
    public static void failAfterBytesForTest(long bytes) {
        failAfterBytesForTest = bytes;
    }

    private AtomicFiles() {
    }

    /** Test hook: when set, the write of a file whose name ends so fails after its first bytes, as a full disk would. */
    private static volatile String failNameForTest;

    /** Test hook (see {@link Staged}); null turns it off. */
    public static void failWritesOfForTest(String nameSuffix) {
        failNameForTest = nameSuffix;
    }

    /** Test hook: when set, changes the bytes on their way to disk, as a faulty disk or file system would. */
    private static volatile java.util.function.UnaryOperator<byte[]> tamperForTest;

    /** Test hook (see {@link #write(Path, byte[], Path, java.util.function.Consumer)}); null turns it off. */
    public static void tamperForTest(java.util.function.UnaryOperator<byte[]> f) {
        tamperForTest = f;
    }

    /** Writes {@code bytes} to {@code out}; refuses to replace {@code protect} (may be null). */
    public static void write(Path out, byte[] bytes, Path protect) {
        write(out, bytes, protect, null);
    }

    /**
     * As {@link #write(Path, byte[], Path)}, and before the temporary file takes the target's name,
     * {@code verify} (may be null) reads it back; if it throws, the temporary file is deleted and the
     * target stays as it was.
     */
    public static void write(Path out, byte[] bytes, Path protect, java.util.function.Consumer<Path> verify) {
        try (Staged s = new Staged()) {
            s.stage(out, bytes, protect, verify);
            s.commit();
        }
    }

    /**
     * Several outputs of one run, written together: {@link #stage} writes each to a flushed (and, if
     * asked, verified) temporary file beside its target; {@link #commit} then renames them all into
     * place. A failure while staging (a full disk, a failed check) leaves every target as it was;
     * {@link #close} deletes whatever was staged and not committed.
     */
    /** Temporary files written and not yet renamed or deleted, for {@link #deleteTemporaryFiles}. */
    private static final java.util.Set<Path> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Deletes every temporary file this process has staged and not yet renamed into place: for a process
     * about to halt (a second Ctrl-C), which runs no {@code close()}. Returns how many it deleted.
     */
    public static int deleteTemporaryFiles() {
        int n = 0;
        for (Path p : java.util.List.copyOf(LIVE)) {
            try {
                if (Files.deleteIfExists(p)) {
                    n++;
                }
            } catch (IOException ignored) {
                // best effort on the way out
            }
            LIVE.remove(p);
        }
        return n;
    }

    public static final class Staged implements AutoCloseable {
        private final java.util.List<Path[]> pending = new java.util.ArrayList<>();

        /** Writes {@code bytes} for {@code out} to a temporary file; refuses to replace {@code protect} (may be null). */
        public void stage(Path out, byte[] bytes, Path protect, java.util.function.Consumer<Path> verify) {
            Path target = out.toAbsolutePath().normalize();
            Path dir = target.getParent();
            if (dir == null || !Files.isDirectory(dir)) {
                throw new AcdcException("output folder does not exist: " + (dir == null ? out : dir));
            }
            if (Files.isDirectory(target)) {
                throw new AcdcException("output path is a folder: " + out);
            }
            if (protect != null && Files.exists(target) && Files.exists(protect)) {
                try {
                    if (Files.isSameFile(target, protect)) {
                        throw new AcdcException("refusing to overwrite the input model " + protect + "; choose another output");
                    }
                } catch (IOException e) {
                    throw new AcdcException("cannot check output path " + out + ": " + e.getMessage());
                }
            }
            Path tmp = null;
            try {
                tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
                LIVE.add(tmp);
                pending.add(new Path[] {tmp, target});
                keepPermissions(tmp, target);
                try (OutputStream os = Files.newOutputStream(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    long limit = failAfterBytesForTest;
                    String failName = failNameForTest;
                    if (failName != null && target.getFileName().toString().endsWith(failName)) {
                        limit = Math.min(bytes.length - 1L, 16);
                    }
                    if (limit >= 0 && limit < bytes.length) {
                        os.write(bytes, 0, (int) limit);
                        throw new IOException("injected write failure after " + limit + " bytes");
                    }
                    java.util.function.UnaryOperator<byte[]> tamper = tamperForTest;
                    os.write(tamper == null ? bytes : tamper.apply(bytes));
                }
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                if (verify != null) {
                    verify.accept(tmp);
                }
            } catch (IOException e) {
                throw new AcdcException("cannot write " + out + ": " + e.getMessage());
            }
        }

        /** Text variant of {@link #stage}. */
        public void stage(Path out, String text) {
            stage(out, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), null, null);
        }

        /** Renames every staged file into place, in the order staged. */
        public void commit() {
            for (java.util.Iterator<Path[]> it = pending.iterator(); it.hasNext(); ) {
                Path[] p = it.next();
                try {
                    try {
                        Files.move(p[0], p[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(p[0], p[1], StandardCopyOption.REPLACE_EXISTING);
                    }
                } catch (IOException e) {
                    throw new AcdcException("cannot write " + p[1] + ": " + e.getMessage());
                }
                LIVE.remove(p[0]);
                it.remove();
            }
        }

        @Override
        public void close() {
            for (Path[] p : pending) {
                try {
                    Files.deleteIfExists(p[0]);
                } catch (IOException ignored) {
                    // best effort: the temp file has a dot name and does not shadow the target
                }
                LIVE.remove(p[0]);
            }
            pending.clear();
        }
    }

    /** The new file gets the old one's permissions, or rw-r--r-- (temp files start as rw-------). */
    private static void keepPermissions(Path tmp, Path target) {
        try {
            if (Files.exists(target)) {
                Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
            } else {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: keep the default
        }
    }

    /** Text variant of {@link #write(Path, byte[], Path)}. */
    public static void writeString(Path out, String text) {
        write(out, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), null);
    }
}
