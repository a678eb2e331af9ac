package dev.acdc.runtime.workflow;

/**
 * One stage of {@link CompressionJob#run}: it reads what the stages before it left in the {@link CompressionRun}
 * and adds what it makes. {@link CompressionJob#stages} lists them in order (a decomposition method's own among them, {@link MethodStages}); a
 * new stage is one more class there.
 */
interface CompressionStage {
    /** Whether this run goes through the stage (from its request and what earlier stages found). */
    default boolean applies(CompressionRun s) {
        return true;
    }

    void run(CompressionRun s);
}
