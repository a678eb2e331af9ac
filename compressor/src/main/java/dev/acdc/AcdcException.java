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
        return message == null ? "(no message)" : dev.acdc.util.Text.printable(message);
    }

    public int exitCode() {
        return exitCode;
    }

    public static AcdcException internal(String message) {
        return new AcdcException(INTERNAL, "internal error: " + message, null);
    }
}
