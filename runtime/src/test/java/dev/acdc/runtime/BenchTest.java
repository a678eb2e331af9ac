package dev.acdc.runtime;

import dev.acdc.AcdcException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchTest {
    @Test
    void percentilesAreNearestRank() {
        double[] v = new double[100];
        for (int i = 0; i < 100; i++) {
            v[i] = i + 1;
        }
        assertEquals(50, Bench.pct(v, 0.5));
        assertEquals(90, Bench.pct(v, 0.9));
        assertEquals(99, Bench.pct(v, 0.99));
        Bench.Stat s = Bench.stat(8, new double[] {4, 2, 3});
        assertEquals(3, s.p50());
        assertEquals(8 / 0.003, s.imagesPerSecond(), 1e-6);
    }

    @Test
    void interleavedRunsReportBothModels() {
        byte[] a = TinyData.linearModel(ValidatorTest.W_A);
        List<Bench.Row> rows = Bench.run(a, a, List.of(1, 4), Sessions.Config.cpu(), 1, 3, s -> { });
        assertEquals(2, rows.size());
        assertEquals(4, rows.get(1).a().batch());
        assertTrue(rows.get(0).b() != null && rows.get(0).ratio() > 0);
    }

    @Test
    void cudaRequestFallsBackWithANoticeOrFailsWhenStrict() {
        byte[] a = TinyData.linearModel(ValidatorTest.W_A);
        StringBuilder notices = new StringBuilder();
        var cfg = new Sessions.Config(Provider.CUDA, false, 0, Sessions.Config.cpu().optLevel());
        try (Sessions.Opened o = Sessions.open(a, cfg, notices::append)) {
            if (!Sessions.cudaBuild()) {
                assertEquals("cpu", o.provider());
                assertTrue(notices.toString().startsWith("running on CPU"), notices.toString());
            }
        }
        if (!Sessions.cudaBuild()) {
            var strict = new Sessions.Config(Provider.CUDA, true, 0, Sessions.Config.cpu().optLevel());
            AcdcException e = assertThrows(AcdcException.class, () -> Sessions.open(a, strict, s -> { }));
            assertTrue(e.getMessage().startsWith("--provider cuda --strict"), e.getMessage());
        }
    }
}
