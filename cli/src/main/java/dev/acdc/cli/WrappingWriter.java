package dev.acdc.cli;

import java.io.IOException;
import java.io.Writer;

/**
 * The console's lines kept within {@value #DEFAULT_WIDTH} columns (0: any width, {@code --wide}): a longer line
 * is broken at spaces, each continuation indented as the line is plus two (six after an {@code "acdc: "}
 * prefix, so notes read as one paragraph). A word longer than the width stands alone. What a progress bar
 * redraws with {@code \r} passes through as written, unbuffered, until the next newline.
 */
final class WrappingWriter extends Writer {
    static final int DEFAULT_WIDTH = 100;

    private final Writer out;
    private final int width;
    private final StringBuilder line = new StringBuilder();
    private boolean raw;

    /**
     * The width for a terminal of {@code columns} (the launcher passes the terminal's): {@value #DEFAULT_WIDTH},
     * or fewer on a narrower terminal of at least 60 columns.
     */
    static int width(String columns) {
        try {
            int c = columns == null ? DEFAULT_WIDTH : Integer.parseInt(columns.trim());
            return c >= 60 && c < DEFAULT_WIDTH ? c : DEFAULT_WIDTH;
        } catch (NumberFormatException e) {
            return DEFAULT_WIDTH;
        }
    }

    /**
     * The console's width for what lays out tables (shortening names to fit): the terminal's, as {@code main}
     * found it, {@value #DEFAULT_WIDTH} by default.
     */
    static volatile int console = DEFAULT_WIDTH;

    WrappingWriter(Writer out, int width) {
        this.out = out;
        this.width = width;
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) {
            char c = buf[i];
            if (c == '\n') {
                if (raw) {
                    out.write('\n');
                    raw = false;
                } else {
                    emit(line.toString());
                    out.write('\n');
                }
                line.setLength(0);
            } else if (raw) {
                out.write(c);
            } else if (c == '\r') {
                out.write(line.toString());
                out.write('\r');
                line.setLength(0);
                raw = true;
            } else {
                line.append(c);
            }
        }
    }

    private void emit(String s) throws IOException {
        out.write(wrap(s, width));
    }

    /** {@code s} (one line) broken into lines of at most {@code width} characters; 0: as it is. */
    static String wrap(String s, int width) {
        if (width <= 0 || s.length() <= width) {
            return s;
        }
        int lead = 0;
        while (lead < s.length() && s.charAt(lead) == ' ') {
            lead++;
        }
        String indent = " ".repeat(Math.min(width / 2, s.startsWith("acdc: ") ? 6 : lead + 2));
        StringBuilder b = new StringBuilder();
        String rest = s;
        String prefix = "";
        while (prefix.length() + rest.length() > width) {
            int room = width - prefix.length();
            int cut = rest.lastIndexOf(' ', room);
            if (cut <= 0) { // one word longer than the room: broken after a comma (a list), else it stands alone
                int comma = rest.lastIndexOf(',', room - 1);
                if (comma > 0) {
                    b.append(prefix).append(rest, 0, comma + 1).append('\n');
                    rest = rest.substring(comma + 1);
                    prefix = indent;
                    continue;
                }
                cut = rest.indexOf(' ', room);
                if (cut < 0) {
                    break;
                }
            }
            b.append(prefix).append(rest, 0, cut).append('\n');
            rest = rest.substring(cut + 1).stripLeading();
            prefix = indent;
        }
        return b.append(prefix).append(rest).toString();
    }

    @Override
    public void flush() throws IOException {
        if (line.length() > 0 && !raw) {
            // a prompt or a progress label printed without a newline: shown now, as it is
            out.write(line.toString());
            line.setLength(0);
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        flush();
        out.close();
    }
}
