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
        return dev.acdc.AcdcException.printable(s);
    }

    /** {@link #printable} for a Markdown table cell: also {@code |} escaped and backticks made quotes. */
    public static String markdownCell(String s) {
        return printable(s).replace("|", "\\|").replace('`', '\'');
    }
}
