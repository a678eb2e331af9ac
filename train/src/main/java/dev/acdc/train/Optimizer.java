package dev.acdc.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The update rule, applied in place to SameDiff's variable arrays: SGD with Nesterov momentum and
 * L2 weight decay (as PyTorch's {@code SGD(nesterov=True, weight_decay=wd)}), or Adam with decoupled
 * weight decay (AdamW). Gradients are first clipped to a global L2 norm. Its state (momentum buffers)
 * is plain arrays, so a checkpoint can save and restore it exactly.
 */
public final class Optimizer {
    private final boolean adam;
    private final double momentum;
    private final double weightDecay;
    private final double clip;
    private final Map<String, INDArray> m1 = new LinkedHashMap<>();
    private final Map<String, INDArray> m2 = new LinkedHashMap<>();
    private int t;

    public Optimizer(boolean adam, double momentum, double weightDecay, double clip) {
        this.adam = adam;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.clip = clip;
    }

    /** Clips and applies one step; returns the gradients' global norm before clipping. */
    public double step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
        return step(params, grads, lr, momentum);
    }

    /** As {@link #step(Map, Map, double)} with this step's SGD {@code momentum} (a cycling schedule's). */
    public double step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr, double momentum) {
        double sq = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sq += n * n;
        }
        double norm = Math.sqrt(sq);
        double scale = clip > 0 && norm > clip ? clip / norm : 1;
        t++;
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray w = e.getValue();
            INDArray g = grads.get(e.getKey());
            if (g == null) {
                continue;
            }
            g = scale == 1 ? g.dup() : g.mul(scale);
            if (adam) {
                INDArray a = m1.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(w));
                INDArray b = m2.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(w));
                double b1 = 0.9;
                double b2 = 0.999;
                a.muli(b1).addi(g.mul(1 - b1));
                b.muli(b2).addi(g.mul(g).muli(1 - b2));
                double c1 = 1 - Math.pow(b1, t);
                double c2 = 1 - Math.pow(b2, t);
                INDArray denom = Transforms.sqrt(b.div(c2), false).addi(1e-8);
                if (weightDecay > 0) {
                    w.subi(w.mul(lr * weightDecay));
                }
                w.subi(a.div(c1).divi(denom).muli(lr));
            } else {
                if (weightDecay > 0) {
                    g.addi(w.mul(weightDecay));
                }
                INDArray v = m1.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(w));
                v.muli(momentum).addi(g);
                w.subi(g.addi(v.mul(momentum)).muli(lr));
            }
        }
        return norm;
    }

    /** Momentum buffers (and Adam's second moments) by variable, for checkpoints. */
    public Map<String, INDArray> state() {
        Map<String, INDArray> s = new LinkedHashMap<>();
        m1.forEach((k, v) -> s.put("m1:" + k, v));
        m2.forEach((k, v) -> s.put("m2:" + k, v));
        return s;
    }

    public int steps() {
        return t;
    }

    public void restore(Map<String, INDArray> s, int steps, List<String> names) {
        for (String n : names) {
            if (s.containsKey("m1:" + n)) {
                m1.put(n, s.get("m1:" + n).dup());
            }
            if (s.containsKey("m2:" + n)) {
                m2.put(n, s.get("m2:" + n).dup());
            }
        }
        this.t = steps;
    }
}
