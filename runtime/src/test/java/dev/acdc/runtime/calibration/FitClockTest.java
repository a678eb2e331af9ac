package dev.acdc.runtime.calibration;

import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.Settings;
import dev.acdc.decompose.SharingSet;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The output fit's estimate of the time left, on the two same-shaped convs of a residual block. */
class FitClockTest {
    @Test
    void aSetLikeTheOneMeasuredIsEstimatedAtItsTimeAndNothingIsLeftAtTheEnd() {
        Compressor.Result r = Compressor.compress(ModelGenerators.residual(3, 8, 16, 5, 11),
                Settings.of("layer", "2", "8", null, null), s -> { });
        List<SharingSet> sets = r.plan().sets();
        assertEquals(2, sets.size(), "the block's two 16-wide 3x3 convs, one set each");
        FitClock clock = new FitClock(sets);
        assertEquals("", clock.left(), "nothing measured yet");
        clock.done(sets.get(0), 1, 2);
        assertTrue(Double.isNaN(clock.secondsLeft()), "under five seconds measured: no estimate");
        FitClock measured = new FitClock(sets);
        measured.done(sets.get(0), 6, 4);
        assertEquals(10, measured.secondsLeft(), 1e-9);
        assertEquals(", ~10 s left", measured.left());
        measured.done(sets.get(1), 6, 4);
        assertEquals(0, measured.secondsLeft(), 1e-9);
    }
}
