package dev.acdc.train;

import dev.acdc.AcdcException;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A request, from another thread (the command line's Ctrl-C handler), that a fine-tune stop at the end
 * of its current step and leave a checkpoint in {@link #folder()}.
 */
public final class StopSignal {
    /** Exit status of a run stopped by SIGINT, as shells report it (128 + 2). */
    public static final int EXIT_INTERRUPTED = 130;

    private final Path folder;
    private final AtomicBoolean requested = new AtomicBoolean();

    public StopSignal(Path folder) {
        this.folder = folder;
    }

    public Path folder() {
        return folder;
    }

    public void request() {
        requested.set(true);
    }

    public boolean requested() {
        return requested.get();
    }

    /** Thrown by the trainer after it stopped on request and wrote the checkpoint. */
    public static final class Stopped extends AcdcException {
        public Stopped(int step, int epoch, Path folder) {
            super(EXIT_INTERRUPTED, "interrupted after step " + step + " (epoch " + epoch + "); checkpoint in " + folder
                    + " (continue with --resume --checkpoint " + folder + ")", null);
        }
    }
}
