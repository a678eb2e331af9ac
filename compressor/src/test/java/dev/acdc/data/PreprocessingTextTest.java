package dev.acdc.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreprocessingTextTest {
    @Test
    void theScaleIsSpelledAsAPersonWritesIt() {
        assertEquals("1/255", Preprocessing.spellScale(1 / 255.0));
        assertEquals("1/127", Preprocessing.spellScale(1.0 / 127));
        assertEquals("1", Preprocessing.spellScale(1));
        assertEquals("0.3", Preprocessing.spellScale(0.3));
        assertEquals("2.5", Preprocessing.spellScale(2.5));
        assertTrue(Preprocessing.defaults().toString().startsWith("scale 1/255, mean"), Preprocessing.defaults().toString());
    }

    /** Channels-first planes laid out as nhwc equal nhwc preprocessing itself, value for value. */
    @Test
    void planesLaidOutChannelsLastEqualChannelsLastPreprocessing() {
        Preprocessing nhwc = Preprocessing.parse("1/255", "0.4,0.5,0.6", "0.2,0.25,0.3", "nhwc");
        int n = 2, c = 3, h = 2, w = 5;
        byte[] px = new byte[n * c * h * w];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 37);
        }
        float[] direct = new float[px.length];
        nhwc.apply(px, n, c, h, w, direct);
        float[] planes = new float[px.length];
        nhwc.channelsFirst().apply(px, n, c, h, w, planes);
        org.junit.jupiter.api.Assertions.assertArrayEquals(direct, nhwc.layout(planes, n, c, h, w));
        assertEquals(java.util.List.of(2L, 5L, 3L), java.util.Arrays.stream(nhwc.sample(c, h, w)).boxed().toList());
        // pixel (k=1, ch=2, y=1, x=3) sits at [1, 1, 3, 2] in nhwc
        int src = ((1 * c + 2) * h + 1) * w + 3;
        assertEquals(((px[src] & 0xff) / 255.0 - 0.6) / 0.3, direct[((1 * h + 1) * w + 3) * c + 2], 1e-5);
    }
}
