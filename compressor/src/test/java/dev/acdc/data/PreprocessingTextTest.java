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
}
