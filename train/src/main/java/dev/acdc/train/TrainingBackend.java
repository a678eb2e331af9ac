package dev.acdc.train;

import dev.acdc.ir.Tensor;

import java.util.List;
import java.util.Map;

/**
 * The engine under the {@link TrainingLoop}: it holds the trainable copy of the model, computes the loss
 * and gradients of one batch, applies the update, and writes the result back into the IR model. The
 * loop decides everything else (order, schedule, epochs, stopping, resuming, which epoch to keep), so
 * another engine (ND4J on CUDA, a distributed one; docs/scaling.md) plugs in here. {@link Nd4jBackend}
 * is the one acdc ships.
 */
public interface TrainingBackend {
    /** Makes the backend of a run: the trainable copy of {@code student}, trained as {@code options} say. */
    @FunctionalInterface
    interface Factory {
        TrainingBackend create(dev.acdc.ir.Model student, TrainOptions options, boolean labels);
    }

    /** The backend acdc ships: ND4J's SameDiff on this machine's ND4J backend. */
    Factory ND4J = Nd4jBackend::new;

    /** One batch: inputs (n × sample, preprocessed and augmented), teacher logits, labels (may be null). */
    record Batch(float[] x, int n, long[] sample, float[] teacher, int[] labels) {
    }

    /** A step's loss before the update and the gradients' global norm before clipping. */
    record StepResult(double loss, double gradNorm) {
    }

    /** The number of outputs (classes) the student gives per image. */
    int classes();

    /**
     * Loss and gradients of the batch, then the update at learning rate {@code lr} and SGD momentum
     * {@code momentum}; a non-finite loss updates nothing.
     */
    StepResult step(Batch batch, double lr, double momentum);

    /** Writes the trained weights and running statistics back into the model. */
    void writeBack();

    /** The names of the model's initializers training changes (weights and running statistics). */
    List<String> state();

    /** The optimizer's buffers (momentum, Adam's moments) by name, for a checkpoint. */
    Map<String, Tensor> optimizerState();

    /** The optimizer's update count. */
    int optimizerSteps();

    /** Restores buffers saved by {@link #optimizerState()} and the update count. */
    void restoreOptimizer(Map<String, Tensor> state, int steps);

    /** "cpu (oneDNN, avx2), 2 cores" or the like. */
    String describe();
}
