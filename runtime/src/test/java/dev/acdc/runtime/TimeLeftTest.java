package dev.acdc.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The time left extrapolated at the rate so far, on a clock the test moves. */
class TimeLeftTest {
    @Test
    void extrapolatesAtTheRateSoFarOnceItHasSettled() {
        long[] now = {1_000_000_000L};
        TimeLeft t = new TimeLeft(100, () -> now[0]);
        now[0] += 2_000_000_000L; // 2 s: too early to say
        assertTrue(Double.isNaN(t.secondsLeft(10)));
        assertEquals("", t.after(10));
        now[0] += 8_000_000_000L; // 10 s for 20 of 100 units: 40 s left
        assertEquals(40, t.secondsLeft(20), 1e-9);
        assertEquals(", ~40 s left", t.after(20));
        // 10 s for 5 units: 190 s left, said in minutes
        assertEquals(190, t.secondsLeft(5), 1e-9);
        assertEquals(", ~3 min left", t.after(5));
        assertEquals(0, t.secondsLeft(100), 1e-9);
        assertTrue(Double.isNaN(t.secondsLeft(0)));
    }
}
