package dev.acdc.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bar decides by standard error, the stream it draws on. */
class ProgressBarTest {
    @Test
    void terminalDevicesAreTold() {
        assertTrue(ProgressBar.isTerminalDevice("/dev/pts/3"));
        assertTrue(ProgressBar.isTerminalDevice("/dev/tty1"));
        assertTrue(ProgressBar.isTerminalDevice("/dev/console"));
        assertFalse(ProgressBar.isTerminalDevice("/tmp/acdc.log"));
        assertFalse(ProgressBar.isTerminalDevice("pipe:[12345]"));
        assertFalse(ProgressBar.isTerminalDevice("/dev/null"));
    }

    /** Under the test runner standard error goes to a file or pipe: plain lines, one per 10 %, no carriage return. */
    @Test
    void aRedirectedStreamGetsPlainLines() {
        assertFalse(ProgressBar.stderrIsTerminal(), "the test runner's standard error is not a terminal");
        StringWriter s = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(s), "validate");
        for (int i = 0; i <= 200; i++) {
            bar.update(i, 200);
        }
        String out = s.toString();
        assertFalse(out.contains("\r"), out);
        assertEquals(11, out.lines().count(), out);
        assertTrue(out.lines().allMatch(l -> l.startsWith("acdc: validate ")), out);
        // all within a few milliseconds: no rate is shown, where it would have read hundreds of thousands
        assertFalse(out.contains("img/s"), out);
    }

    @Test
    void aRateIsShownOnceItMeansSomething() throws Exception {
        StringWriter s = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(s), "validate");
        Thread.sleep((long) (1000 * ProgressBar.MIN_SECONDS_FOR_RATE) + 50);
        bar.update(100, 200);
        assertTrue(s.toString().matches("acdc: validate 100/200 \\(\\d+ img/s\\)\\R"), s.toString());
    }
}
