package dev.acdc.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one-cycle schedule against PyTorch 1.13's OneCycleLR (max_lr 0.02, 100 steps, pct_start 0.15). */
class ScheduleTest {
    // (step, momentum, lr) printed by torch.optim.lr_scheduler.OneCycleLR with its default cycle_momentum
    private static final double[][] TORCH = {
        {0, 0.95, 0.0008}, {5, 0.9216941869558779, 0.0062347161044714414}, {14, 0.85, 0.02},
        {50, 0.888103240247869, 0.012379382433018386}, {99, 0.95, 8e-08},
    };

    @Test
    void rateAndCycledMomentumFollowOneCycleLr() {
        Schedule s = new Schedule(Schedule.Kind.ONE_CYCLE, 0.02, 100, 0.15);
        for (double[] r : TORCH) {
            int step = (int) r[0];
            // acdc's phases end at fractions of all the steps, OneCycleLR's one step earlier: a small lag
            assertEquals(r[1], s.momentumAt(step, true, 0.9), 0.006, "momentum at step " + step);
            assertEquals(r[2], s.valueAt(step, 0), 0.0015, "lr at step " + step);
        }
        // the momentum is lowest where the rate peaks, and moves opposite to it
        assertEquals(Schedule.BASE_MOMENTUM, s.momentumAt(15, true, 0.9), 1e-12);
        assertEquals(0.9, s.momentumAt(40, false, 0.9), 0);
        assertEquals(0.9, new Schedule(Schedule.Kind.COSINE, 0.02, 100).momentumAt(40, true, 0.9), 0);
    }
}
