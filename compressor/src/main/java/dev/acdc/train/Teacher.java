package dev.acdc.train;

/** The model distilled from: logits for a batch of preprocessed inputs. */
@FunctionalInterface
public interface Teacher {
    /** Logits [n × classes] for n samples of the given per-sample shape. */
    float[] logits(float[] x, int n, long[] sampleShape);
}
