package dev.acdc.train;

import dev.acdc.AcdcException;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Locale;

/**
 * Learning-rate schedules by iteration: {@code one-cycle} (cosine rise over the first 30 % from
 * lr/25 to lr, then cosine decay to lr/1e4) and {@code cosine} (linear warm-up over the first 5 %,
 * then cosine decay to 0), or {@code constant}.
 */
public final class Schedule implements ISchedule {
    public enum Kind { ONE_CYCLE, COSINE, CONSTANT }

    private final Kind kind;
    private final double lr;
    private final int total;

    public Schedule(Kind kind, double lr, int totalSteps) {
        this.kind = kind;
        this.lr = lr;
        this.total = Math.max(1, totalSteps);
    }

    public static Kind parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "one-cycle", "onecycle" -> Kind.ONE_CYCLE;
            case "cosine", "warmup-cosine" -> Kind.COSINE;
            case "constant" -> Kind.CONSTANT;
            default -> throw new AcdcException("unknown schedule '" + s + "' (choose one-cycle, cosine or constant)");
        };
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        double t = Math.min(1.0, iteration / (double) total);
        return switch (kind) {
            case CONSTANT -> lr;
            case ONE_CYCLE -> {
                double start = lr / 25;
                double end = lr / 1e4;
                if (t < 0.3) {
                    yield start + (lr - start) * (1 - Math.cos(Math.PI * t / 0.3)) / 2;
                }
                yield end + (lr - end) * (1 + Math.cos(Math.PI * (t - 0.3) / 0.7)) / 2;
            }
            case COSINE -> {
                if (t < 0.05) {
                    yield lr * (t / 0.05);
                }
                yield lr * (1 + Math.cos(Math.PI * (t - 0.05) / 0.95)) / 2;
            }
        };
    }

    @Override
    public ISchedule clone() {
        return new Schedule(kind, lr, total);
    }
}
