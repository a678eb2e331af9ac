package dev.acdc.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console fits 100 columns by default (as acdc's main() sets it up), and --wide prints everything whole. */
class ConsoleWidthTest {
    @TempDir
    Path tmp;

    @Test
    void longLinesBreakAtSpacesOrCommasAndKeepEveryWord() {
        String words = "acdc: " + "the quick brown fox jumps over the lazy dog ".repeat(8).strip();
        String w = WrappingWriter.wrap(words, 100);
        assertTrue(w.lines().allMatch(l -> l.length() <= 100), w);
        assertTrue(w.lines().skip(1).allMatch(l -> l.startsWith("      ") && !l.startsWith("       ")), w);
        assertEquals(words, String.join(" ", w.lines().map(String::strip).toList()));
        String list = "note: by hand: --set-atoms " + "stage1_block1_conv1=6,".repeat(12) + "last=3";
        String l = WrappingWriter.wrap(list, 100);
        assertTrue(l.lines().allMatch(x -> x.length() <= 100), l);
        assertEquals(list, l.lines().map(String::strip).reduce("", (a, b) -> a.isEmpty() ? b
                : a.endsWith(",") ? a + b : a + " " + b));
        assertEquals(words, WrappingWriter.wrap(words, 0), "0: as it is");
        assertEquals(100, WrappingWriter.width(null));
        assertEquals(80, WrappingWriter.width("80"));
        assertEquals(100, WrappingWriter.width("200"), "never wider than 100 unless --wide");
        assertEquals(100, WrappingWriter.width("20"), "too narrow to be a terminal acdc can fit");
        assertEquals(100, WrappingWriter.width("wide"));
        String word = "x".repeat(150);
        assertEquals(word, WrappingWriter.wrap(word, 100), "one word longer than the width stands alone");
    }

    /** The verdict's label is coloured only where the launcher saw a terminal, and never with NO_COLOR. */
    @Test
    void verdictLabelsAreColouredOnATerminalOnly() {
        try {
            Colors.init("1", null);
            assertEquals("\u001b[32mverdict:\u001b[0m top-1 -1.8 points", Colors.verdict("top-1 -1.8 points", false));
            assertTrue(Colors.verdict("x", true).startsWith("\u001b[33m") && Colors.warning("w").startsWith("\u001b[33m"));
            Colors.init("1", "1");
            assertEquals("verdict: x", Colors.verdict("x", false));
            Colors.init(null, null);
            assertEquals("warning: w", Colors.warning("w"));
        } finally {
            Colors.set(false);
        }
    }

    private record Console(int code, String out, String err) {
        List<String> lines() {
            return java.util.stream.Stream.concat(out.lines(), err.lines()).toList();
        }
    }

    private static Console run(int width, String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.run(new PrintWriter(new WrappingWriter(o, width), true),
                new PrintWriter(new WrappingWriter(e, width), true), args);
        return new Console(code, o.toString(), e.toString());
    }

    @Test
    void theDemoAndASizePlanFitAHundredColumns() {
        Path dir = CliTest.testdata();
        String model = dir.resolve("fmnist-resnet14.onnx").toString();
        String train = CliTest.fmnistTrain();
        String eval = "idx:" + dir.resolve("fmnist-test2k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-test2k-labels-idx1-ubyte.gz");
        Console fit = run(100, "compress", model, "-o", tmp.resolve("a.onnx").toString(), "--calibration-data", train,
                "--calibration-images", "32", "--sensitivity-images", "0", "--recovery", "off", "--eval-data", eval,
                "--limit", "200");
        assertEquals(0, fit.code(), fit.err());
        assertTrue(fit.lines().stream().allMatch(l -> l.length() <= 100), String.join("\n", fit.lines()));
        assertTrue(fit.out().contains("weight err") && !fit.out().contains("output err svd"), fit.out());

        // an 80-column terminal: the conv table's names shortened until it fits, every line within 80
        int was = WrappingWriter.console;
        WrappingWriter.console = 80;
        try {
            Console narrow = run(80, "compress", model, "-o", tmp.resolve("n.onnx").toString(), "--calibration-data",
                    train, "--calibration-images", "32", "--sensitivity-images", "0", "--recovery", "off");
            assertEquals(0, narrow.code(), narrow.err());
            assertTrue(narrow.lines().stream().allMatch(l -> l.length() <= 80), String.join("\n", narrow.lines()));
            // the header whole on one line: the table fits, it was not wrapped to fit
            assertTrue(narrow.lines().stream().anyMatch(l -> l.startsWith("conv ") && l.contains("output err")
                    && l.contains(" note")), narrow.out());
        } finally {
            WrappingWriter.console = was;
        }

        Console plan = run(100, "compress", model, "-o", tmp.resolve("b.onnx").toString(), "--target-size", "0.3",
                "--calibration-data", train, "--calibration-images", "32", "--sensitivity-images", "0", "--recovery",
                "off");
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.lines().stream().allMatch(l -> l.length() <= 100), String.join("\n", plan.lines()));
        long summaries = plan.lines().stream().filter(l -> l.contains("atom budget for --target-size 0.3 (")).count();
        assertEquals(1, summaries, "the plan is printed once:\n" + String.join("\n", plan.lines()));

        Console wide = run(0, "compress", model, "-o", tmp.resolve("c.onnx").toString(), "--calibration-data", train,
                "--calibration-images", "32", "--sensitivity-images", "0", "--recovery", "off", "--wide");
        assertEquals(0, wide.code(), wide.err());
        assertTrue(wide.out().contains("output err svd") && wide.lines().stream().anyMatch(l -> l.length() > 100),
                wide.out());
    }
}
