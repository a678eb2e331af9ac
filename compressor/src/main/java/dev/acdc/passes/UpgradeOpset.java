package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.ShapeInference;
import dev.acdc.ir.OperatorRule;
import dev.acdc.ir.Operators;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Raises the default-domain opset to at least {@code target} (13, where the compact export's ops
 * have the form it writes), converting the CNN operators whose signature changed on the way (each by its
 * rule's upgrade, in ir/ops): attribute
 * inputs of Unsqueeze/Squeeze (&lt;13), Slice (&lt;10), Pad and Clip (&lt;11) become initializer inputs;
 * Dropout loses ratio/is_test; BatchNormalization loses spatial/is_test/consumed_inputs; Softmax and
 * LogSoftmax before 13 are kept only when their axis is the last (where old and new semantics agree).
 * Ensures the opset is at least the target and the IR version at least 7.
 */
public final class UpgradeOpset implements Pass {
    private final long target;

    public UpgradeOpset(long target) {
        this.target = target;
    }

    @Override
    public String name() {
        return "upgrade-opset-" + target;
    }

    @Override
    public List<Condition> ensures() {
        return List.of(Condition.WELL_FORMED, new Condition("opset >= " + target,
                m -> m.opset() >= target ? null : "opset is " + m.opset()));
    }

    @Override
    public int run(Model m) {
        long from = m.opset();
        if (from >= target) {
            return 0;
        }
        Graph g = m.graph();
        Map<String, ShapeInference.Facts> facts = ShapeInference.infer(m);
        int changed = 0;
        for (Node n : new ArrayList<>(g.nodes())) {
            OperatorRule rule = n.isDefaultDomain() ? Operators.of(n.opType()) : null;
            if (rule != null) { // each operator's own upgrade (ir/ops); one without a rule is checked in ONNX Runtime
                changed += rule.upgrade().apply(n, from, target, g, facts);
            }
        }
        m.setOpset(target);
        if (m.irVersion() < 7) {
            m.setIrVersion(7);
        }
        return changed + 1;
    }
}
