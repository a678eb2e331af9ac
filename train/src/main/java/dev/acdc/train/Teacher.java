package dev.acdc.train;

import dev.acdc.ir.Model;

/** The model distilled from: logits for a batch of preprocessed inputs. */
@FunctionalInterface
public interface Teacher {
    /** Logits [n × classes] for n samples of the given per-sample shape. */
    float[] logits(float[] x, int n, long[] sampleShape);

    /**
     * The teacher's graph, when it is known (a fresh copy the caller may change), so that the
     * statistics of its inner values can start the student's training-mode BatchNormalization; null
     * when only its logits are known.
     */
    default Model model() {
        return null;
    }
}
