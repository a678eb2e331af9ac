package dev.acdc.train;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The fine-tuning loss, added to a {@link SameDiffGraph}:
 * {@code loss = w_kd · T² · KL(softmax(t/T) ‖ softmax(s/T)) + β · CE(s, y)}, averaged over the batch;
 * the CE term only where labels exist. Placeholders: {@code teacher} (logits) and {@code labels}
 * (one-hot).
 */
public final class Distillation {
    public static final String TEACHER = "teacher";
    public static final String LABELS = "labels";
    public static final String LOSS = "loss";

    private Distillation() {
    }

    public static SDVariable add(SameDiffGraph g, int classes, double temperature, double kdWeight, double ceWeight,
                                 boolean labels) {
        SameDiff sd = g.sameDiff();
        SDVariable s = g.logits();
        SDVariable t = sd.placeHolder(TEACHER, DataType.FLOAT, -1, classes);
        SDVariable logPt = logSoftmax(t.div(temperature));
        SDVariable pt = sd.math().exp(logPt);
        SDVariable logPs = logSoftmax(s.div(temperature));
        SDVariable kl = pt.mul(logPt.sub(logPs)).sum(1).mean(0).mul(temperature * temperature);
        SDVariable loss = kl.mul(kdWeight);
        if (labels && ceWeight > 0) {
            SDVariable y = sd.placeHolder(LABELS, DataType.FLOAT, -1, classes);
            SDVariable ce = y.mul(logSoftmax(s)).sum(1).mean(0).neg();
            loss = loss.add(ce.mul(ceWeight));
        }
        loss = loss.rename(LOSS);
        sd.setLossVariables(LOSS);
        return loss;
    }

    /**
     * Row-wise log-softmax of [n, classes] written out (z − max − log Σ exp(z − max)): ND4J 1.0.0-M2.1's
     * LogSoftMax op fails when SameDiff clones the graph for gradients.
     */
    static SDVariable logSoftmax(SDVariable z) {
        SameDiff sd = z.getSameDiff();
        SDVariable shifted = z.sub(z.max(true, 1));
        return shifted.sub(sd.math().log(sd.math().exp(shifted).sum(true, 1)));
    }
}
