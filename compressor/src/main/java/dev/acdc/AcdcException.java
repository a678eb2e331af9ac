package dev.acdc;

/**
 * The project's own error: a one-line message a user can act on, and the exit code the command line
 * should end with. Every expected failure (bad input, unsupported model, bad option, failed check) is
 * reported through this type; anything else is a bug.
 */
public class AcdcException extends RuntimeException {
    /** Bad input: a file, an option or a model the tool cannot work with. */
    public static final int BAD_INPUT = 2;
    /** The work ran but a check it was asked to make failed (e.g. accuracy drop over the limit). */
    public static final int CHECK_FAILED = 1;
    /** An internal invariant broke: a bug in acdc. */
    public static final int INTERNAL = 3;

    private final int exitCode;

    public AcdcException(String message) {
        this(BAD_INPUT, message, null);
    }

    public AcdcException(String message, Throwable cause) {
        this(BAD_INPUT, message, cause);
    }

    public AcdcException(int exitCode, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.exitCode = exitCode;
    }

    /**
     * The message with control characters (names read from a file may hold newlines or escape
     * sequences) written as {@code \\uXXXX}, so it stays one line and cannot drive a terminal.
     */
    static String oneLine(String message) {
        return message == null ? "(no message)" : printable(message);
    }

    /**
     * {@code s} with every control character (and the Unicode line and paragraph separators) written as
     * {@code \\uXXXX}, so it stays one line and cannot drive a terminal. Here, at the bottom of the package
     * graph, so that the error type depends on nothing; {@code util.Text} offers it to the rest.
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

    public int exitCode() {
        return exitCode;
    }

    public static AcdcException internal(String message) {
        return new AcdcException(INTERNAL, "internal error: " + message, null);
    }
}
