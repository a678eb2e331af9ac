package dev.acdc.runtime.workflow;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A fine-tune's first lines estimate its time from steps 3-5, once. */
class StepTimerTest {
    @Test
    void theEstimateComesOnceFromTheMeasuredSteps() {
        FineTuneJob.StepTimer t = new FineTuneJob.StepTimer();
        assertNull(t.step(1, 600, 0));
        assertNull(t.step(2, 600, 1_000_000_000L));
        assertNull(t.step(3, 600, 2_500_000_000L));
        assertNull(t.step(4, 600, 4_000_000_000L));
        // 4.5 s over steps 3..5: 1.5 s a step, 600 steps: 15 min
        assertEquals("fine-tune: about 15 min for 600 steps (1.50 s a step, measured on steps 3-5; the progress line "
                + "keeps the time left current, evaluation after each epoch not counted)", t.step(5, 600, 5_500_000_000L));
        assertNull(t.step(5, 600, 6_000_000_000L), "said once");
        FineTuneJob.StepTimer few = new FineTuneJob.StepTimer();
        few.step(2, 10, 0);
        assertNull(few.step(5, 10, 3_000_000_000L), "a run of 10 steps needs no estimate");
        FineTuneJob.StepTimer resumed = new FineTuneJob.StepTimer();
        assertNull(resumed.step(5, 600, 3_000_000_000L), "a resumed run that never saw step 2 says nothing");
    }
}
