package dev.acdc.fuzz;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Planner;
import dev.acdc.decompose.Settings;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.ir.OpSchema;
import dev.acdc.ir.ShapeInference;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;

/**
 * Jazzer fuzz target: model loading, IR building, operator checks, shape inference, the standard passes,
 * the summary and the decomposition plan. Every input must either go through or fail with
 * {@link AcdcException} carrying a one-line message; any other throwable (or a hang, or running out of
 * memory) is a finding. Run by {@code FuzzTest} for a short seeded session, and by {@code scripts/fuzz}
 * for as long as you like.
 */
public final class ModelLoadingFuzzer {
    private ModelLoadingFuzzer() {
    }

    public static void fuzzerTestOneInput(byte[] data) {
        try {
            Model m = OnnxModels.fromBytes(data, null);
            OpSchema.checkModel(m);
            ShapeInference.infer(m);
            ModelSummary.of(m, null, data.length);
            PassManager.standard().run(m);
            Planner.plan(m, Settings.defaults());
        } catch (AcdcException e) {
            String msg = e.getMessage();
            if (msg == null || msg.isBlank() || msg.contains("\n")) {
                throw new IllegalStateException("error message is not one line: " + msg, e);
            }
        }
    }
}
