package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Compressor;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.ir.OpSchema;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.UpgradeOpset;
import dev.acdc.runtime.MeasuredShapes;
import dev.acdc.runtime.Probe;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Operators acdc has no rule for pass through a job unchanged: their output shapes are measured in
 * ONNX Runtime ({@link MeasuredShapes}), and when the model's opset is below the one acdc writes, the
 * cleaned and upgraded graph must compute what the original does in ONNX Runtime (acdc cannot upgrade an
 * operator it does not know, so it checks that the operator means the same at the new opset).
 */
final class PassThrough {
    /** Largest |difference| on the probe, relative to the output scale, for an upgrade to count as exact. */
    static final double EXACT = 1e-4;

    private PassThrough() {
    }

    /** Prepares {@code m} (read from {@code bytes}) for a job; does nothing when every operator has a rule. */
    static void prepare(Model m, byte[] bytes, long[] inputShape, JobListener listener) {
        Map<String, List<Node>> unknown = OpSchema.unknownOperators(m.graph());
        if (unknown.isEmpty()) {
            return;
        }
        long[] shape = ModelSummary.whatCanBeSeen(m, inputShape, bytes.length).inputShape();
        List<String> measured = MeasuredShapes.declare(m, shape);
        listener.note("passing through unchanged the operators acdc has no rule for: " + OpSchema.describe(unknown)
                + (measured.isEmpty() ? "" : "; the shapes of the " + measured.size()
                        + " values they and their successors compute measured in ONNX Runtime"));
        if (m.opset() < Compressor.EXPORT_OPSET) {
            Model upgraded = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
            PassManager.standard().run(upgraded);
            new PassManager(List.of(new UpgradeOpset(Compressor.EXPORT_OPSET))).run(upgraded);
            long[] probe = shape.clone();
            probe[0] = 2;
            Probe.Comparison c;
            try {
                c = Probe.compare(bytes, OnnxModels.toBytes(upgraded), probe, 4321);
            } catch (AcdcException e) {
                throw new AcdcException("acdc writes opset " + Compressor.EXPORT_OPSET + ", and at that opset "
                        + e.getMessage() + " with the operators acdc has no rule for (" + String.join(", ", unknown.keySet())
                        + ") as they were at opset " + m.opset() + "; re-export the model at opset "
                        + Compressor.EXPORT_OPSET + " or later");
            }
            double tolerance = EXACT * Math.max(1, c.outputScale());
            if (!(c.maxAbsDiff() <= tolerance)) {
                throw new AcdcException(String.format(Locale.ROOT, "acdc writes opset %d, and at that opset the "
                        + "model no longer computes what it did at opset %d in ONNX Runtime (max |output difference| "
                        + "%.3g on a probe batch): an operator acdc has no rule for (%s) changed meaning; re-export "
                        + "the model at opset %d or later", Compressor.EXPORT_OPSET, m.opset(), c.maxAbsDiff(),
                        String.join(", ", unknown.keySet()), Compressor.EXPORT_OPSET));
            }
            listener.note(String.format(Locale.ROOT, "opset %d -> %d checked in ONNX Runtime with those operators "
                    + "as they are: max |output difference| %.2g on a probe batch", m.opset(), Compressor.EXPORT_OPSET,
                    c.maxAbsDiff()));
        }
    }
}
