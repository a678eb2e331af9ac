package dev.acdc.runtime.workflow;

import dev.acdc.train.EpochRecord;
import dev.acdc.train.StopSignal;

/**
 * What a job tells its caller as it runs. Every call is made between units of work, where the caller may
 * stop the job by throwing (the CLI's Ctrl-C does): nothing is written or replaced before
 * {@link #checkpoint()} returns for the last time, and staged files are deleted on the way out.
 */
public interface JobListener {
    /** A one-line progress fact, e.g. "calibration images: 512 of …". */
    void note(String line);

    /** A safe point without a line: throw to stop the job here. */
    default void checkpoint() {
    }

    /** After each training step: its loss, the gradient norm before clipping, and images/s so far. */
    default void trainingStep(int step, int totalSteps, int epoch, double loss, double gradNorm,
                              double imagesPerSecond) {
    }

    /** After each training epoch. */
    default void epoch(EpochRecord record) {
    }

    /** Images of a validation done so far. */
    default void validated(int done, int total) {
    }

    /**
     * Training begins: from now until the returned scope is closed, a stop is asked for through
     * {@code stop} (the run ends after its step with a checkpoint) rather than by throwing.
     */
    default Scope training(StopSignal stop) {
        return () -> { };
    }

    /** What {@link #training} returns: closed when training ends, however it ends. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** A listener that ignores everything. */
    static JobListener silent() {
        return line -> { };
    }
}
