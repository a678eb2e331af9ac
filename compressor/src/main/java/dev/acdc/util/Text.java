package dev.acdc.util;

/**
 * Text from a model file (node, tensor and input names) made safe to print: a name may hold newlines, escape
 * sequences or table syntax, and a crafted one could fake a "wrote ..." line or clear the screen.
 */
public final class Text {
    private Text() {
    }

    /**
     * {@code s} with every control character (and the Unicode line and paragraph separators) written as
     * {@code \\uXXXX}, so it stays one line and cannot drive a terminal.
     */
    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                if (b == null) {
                    b = new StringBuilder(s.length() + 8).append(s, 0, i);
                }
                b.append(String.format("\\u%04x", (int) c));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    /** {@link #printable} for a Markdown table cell: also {@code |} escaped and backticks made quotes. */
    public static String markdownCell(String s) {
        return printable(s).replace("|", "\\|").replace('`', '\'');
    }
}
