package dev.acdc.train;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.convolution.BatchNorm;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Training-mode BatchNormalization on ND4J's fused kernels (oneDNN's where available):
 * {@code moments} gives the batch mean and variance, and {@code batchnorm} normalises by them. Its
 * backward pass is {@code batchnorm_bp}, which already differentiates through the batch statistics
 * (∂L/∂x includes the terms through μ and σ²), so the statistics enter through an integer
 * reinterpretation that ends SameDiff's gradient path there ({@link #detached}): SameDiff's own
 * stop-gradient still back-propagates zeros through {@code moments}, which cost a fifth of the step
 * ({@code TrainerTest.gradientBeforeATrainingModeBatchNormMatchesFiniteDifferences} checks the result).
 *
 * <p>Why a subclass: in ND4J 1.0.0-M2.1, SameDiff rebuilds every op from its serialised form before it
 * differentiates, and the rebuilt {@link BatchNorm} has lost its axis, so its {@code doDiff} fails;
 * the derivative op it would build also declares three to five inputs where {@code batchnorm_bp} takes
 * six. {@link #install()} makes the rebuild produce this class, whose derivative reads the axis from
 * the op's integer arguments (which do survive) and declares its inputs and outputs correctly. The
 * forward computation is {@link BatchNorm}'s, unchanged.
 */
public class FusedBatchNorm extends BatchNorm {
    private static boolean installed;

    /** For SameDiff's reflective rebuild. */
    public FusedBatchNorm() {
    }

    /**
     * {@code x} normalised per channel (axis 1 of NCHW) by its batch statistics, scaled by γ and shifted
     * by β; returns the output and the batch mean and (biased) variance, for the running statistics.
     */
    public static SDVariable[] training(SameDiff sd, SDVariable x, SDVariable gamma, SDVariable beta, double eps) {
        install();
        SDVariable[] moments = sd.math().moments(x, new int[] {0, 2, 3}, false);
        SDVariable mean = detached(sd, moments[0]);
        SDVariable var = detached(sd, moments[1]);
        SDVariable y = sd.nn().batchNorm(x, mean, var, gamma, beta, eps, 1);
        return new SDVariable[] {y, moments[0], moments[1]};
    }

    /** {@code v}'s values through an integer reinterpretation, which ends SameDiff's gradient path. */
    static SDVariable detached(SameDiff sd, SDVariable v) {
        return cast(sd, cast(sd, v, DataType.INT32), DataType.FLOAT);
    }

    private static SDVariable cast(SameDiff sd, SDVariable v, DataType to) {
        org.nd4j.linalg.api.ops.custom.BitCast op = new org.nd4j.linalg.api.ops.custom.BitCast(sd, v, sd.constant(to.toInt()));
        op.addIArgument(to.toInt());
        return op.outputVariable();
    }

    @Override
    public List<SDVariable> doDiff(List<SDVariable> grad) {
        long[] ia = iArgs(); // applyGamma, applyBeta, axis
        int axis = ia.length > 2 ? (int) ia[2] : 1;
        List<SDVariable> in = new ArrayList<>(Arrays.asList(args()));
        in.add(grad.get(0));
        // the rebuilt op's fields may be unset too; its integer and float arguments are what survive
        double[] ta = tArgs();
        return Arrays.asList(new Backward(sameDiff, in.toArray(new SDVariable[0]), ia.length < 1 || ia[0] != 0,
                ia.length < 2 || ia[1] != 0, ta.length > 0 ? ta[0] : getEpsilon(), axis).outputVariables());
    }

    /** {@code batchnorm_bp}: (x, mean, variance, γ, β, ∂L/∂y) → (∂L/∂x, ∂L/∂mean, ∂L/∂variance, ∂L/∂γ, ∂L/∂β). */
    public static class Backward extends DynamicCustomOp {
        /** For SameDiff's reflective rebuild. */
        public Backward() {
        }

        Backward(SameDiff sd, SDVariable[] in, boolean gamma, boolean beta, double eps, int axis) {
            super(null, sd, in, false);
            addIArgument(gamma ? 1 : 0, beta ? 1 : 0, axis);
            addTArgument(eps);
        }

        @Override
        public String opName() {
            return "batchnorm_bp";
        }

        @Override
        public int getNumOutputs() {
            return 5;
        }

        @Override
        public List<DataType> calculateOutputDataTypes(List<DataType> in) {
            return Collections.nCopies(5, in.get(0));
        }
    }

    /**
     * Runs {@code batchnorm_bp} on ND4J's own kernel rather than oneDNN's: the oneDNN path, which has
     * to add the batch-statistics terms to oneDNN's result, took about twice as long (20.7 against
     * 11.7 ms for a 128×16×32×32 activation on the 2-core CPU). Every other op keeps oneDNN.
     */
    public static final class PlainBackwardKernel extends org.nd4j.autodiff.listeners.BaseListener {
        @Override
        public boolean isActive(org.nd4j.autodiff.listeners.Operation operation) {
            return true;
        }

        @Override
        public void preOpExecution(SameDiff sd, org.nd4j.autodiff.listeners.At at,
                                   org.nd4j.autodiff.samediff.internal.SameDiffOp op,
                                   org.nd4j.linalg.api.ops.OpContext context) {
            if (context != null) { // ND4J reuses one context for every op: set the flag for each
                context.allowHelpers(!"batchnorm_bp".equals(op.getOp().opName()));
            }
        }
    }

    /** Makes SameDiff's op registry rebuild {@code batchnorm} nodes as this class (idempotent). */
    @SuppressWarnings("unchecked")
    static synchronized void install() {
        if (installed) {
            return;
        }
        try {
            DifferentialFunctionClassHolder holder = DifferentialFunctionClassHolder.getInstance();
            Field single = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClass");
            single.setAccessible(true);
            int replaced = replace(((Map<Long, Class<?>>) single.get(holder)));
            Field multi = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClasses");
            multi.setAccessible(true);
            for (Map<String, Class<?>> m : ((Map<Long, Map<String, Class<?>>>) multi.get(holder)).values()) {
                replaced += replace(m);
            }
            if (replaced == 0) {
                throw new IllegalStateException("ND4J's op registry holds no BatchNorm class");
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot install the fused BatchNormalization for ND4J "
                    + "(is this ND4J 1.0.0-M2.1?): " + e, e);
        }
        installed = true;
    }

    private static <K> int replace(Map<K, Class<?>> m) {
        int n = 0;
        for (Map.Entry<K, Class<?>> e : m.entrySet()) {
            if (e.getValue() == BatchNorm.class) {
                e.setValue(FusedBatchNorm.class);
                n++;
            }
        }
        return n;
    }
}
