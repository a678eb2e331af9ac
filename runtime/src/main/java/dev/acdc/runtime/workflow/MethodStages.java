package dev.acdc.runtime.workflow;

import dev.acdc.decompose.AcdcMethod;

import java.util.List;
import java.util.Map;

/**
 * The stages a decomposition method adds to a compression, run after the calibration sample and before the
 * fit ({@link CompressionJob#stages}): ACDC's size plan ({@code --target-size}, {@code --target-drop}) and its
 * per-set sensitivity sweep, both of which vary the atoms of each sharing set. A method without stages here
 * goes through the job's own stages only, and a size or drop target is refused for it.
 */
final class MethodStages {
    private static final Map<String, List<CompressionStage>> BY_METHOD = Map.of(AcdcMethod.ID,
            List.of(new SizeTargetStage(), new SensitivityStage()));

    private MethodStages() {
    }

    /** {@code method}'s own stages, in order (none for a method that adds none). */
    static List<CompressionStage> of(String method) {
        return BY_METHOD.getOrDefault(method, List.of());
    }

    /** Whether {@code method} has a stage of {@code type}. */
    static boolean has(String method, Class<? extends CompressionStage> type) {
        return of(method).stream().anyMatch(type::isInstance);
    }
}
