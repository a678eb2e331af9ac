package dev.acdc.train;

import dev.acdc.AcdcException;

import java.util.Locale;

/**
 * Learning-rate schedules by iteration: {@code one-cycle} (cosine rise over the warm-up fraction of the
 * steps from lr/25 to lr, then cosine decay to lr/1e4, as PyTorch's {@code OneCycleLR}) and {@code cosine}
 * (linear warm-up, then cosine decay to 0), or {@code constant}. The warm-up fraction defaults to
 * {@link #defaultWarmup(Kind)}. Plain arithmetic: the engine-free {@link TrainingLoop} asks it for each step's
 * rate and momentum and passes them to the backend.
 */
public final class Schedule {
    public enum Kind { ONE_CYCLE, COSINE, CONSTANT }

    /** PyTorch OneCycleLR's momentum bounds when it cycles momentum. */
    public static final double MAX_MOMENTUM = 0.95;
    public static final double BASE_MOMENTUM = 0.85;

    private final Kind kind;
    private final double lr;
    private final int total;
    private final double warmup;

    public Schedule(Kind kind, double lr, int totalSteps) {
        this(kind, lr, totalSteps, defaultWarmup(kind));
    }

    /** {@code warmup}: the fraction of the steps over which the rate rises, in [0, 1). */
    public Schedule(Kind kind, double lr, int totalSteps, double warmup) {
        if (!(warmup >= 0 && warmup < 1)) {
            throw new AcdcException("--warmup must be a fraction in [0, 1), got " + warmup);
        }
        this.kind = kind;
        this.lr = lr;
        this.total = Math.max(1, totalSteps);
        this.warmup = warmup;
    }

    /** One-cycle: 0.15 (the reference recipe's; OneCycleLR's own default is 0.3); cosine: 0.05. */
    public static double defaultWarmup(Kind kind) {
        return kind == Kind.COSINE ? 0.05 : 0.15;
    }

    public static Kind parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "one-cycle", "onecycle" -> Kind.ONE_CYCLE;
            case "cosine", "warmup-cosine" -> Kind.COSINE;
            case "constant" -> Kind.CONSTANT;
            default -> throw new AcdcException("unknown schedule '" + s + "' (choose one-cycle, cosine or constant)");
        };
    }

    /** The learning rate at {@code iteration} (the epoch is not used: schedules run by step). */
    public double valueAt(int iteration, int epoch) {
        double t = Math.min(1.0, iteration / (double) total);
        return switch (kind) {
            case CONSTANT -> lr;
            case ONE_CYCLE -> {
                double start = lr / 25;
                double end = lr / 1e4;
                if (t < warmup) {
                    yield start + (lr - start) * (1 - Math.cos(Math.PI * t / warmup)) / 2;
                }
                yield end + (lr - end) * (1 + Math.cos(Math.PI * (t - warmup) / (1 - warmup))) / 2;
            }
            case COSINE -> {
                if (t < warmup) {
                    yield lr * (t / warmup);
                }
                yield lr * (1 + Math.cos(Math.PI * (t - warmup) / (1 - warmup))) / 2;
            }
        };
    }

    /**
     * The momentum at {@code iteration}: with {@code cycle} on a one-cycle schedule it moves opposite to
     * the rate, cosine from {@link #MAX_MOMENTUM} down to {@link #BASE_MOMENTUM} over the warm-up and back
     * up over the decay (as OneCycleLR); otherwise {@code fixed}.
     */
    public double momentumAt(int iteration, boolean cycle, double fixed) {
        if (!cycle || kind != Kind.ONE_CYCLE) {
            return fixed;
        }
        double t = Math.min(1.0, iteration / (double) total);
        double hi = MAX_MOMENTUM;
        double lo = BASE_MOMENTUM;
        if (t < warmup) {
            return hi + (lo - hi) * (1 - Math.cos(Math.PI * t / warmup)) / 2;
        }
        return lo + (hi - lo) * (1 - Math.cos(Math.PI * (t - warmup) / (1 - warmup))) / 2;
    }
}
