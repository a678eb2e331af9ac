package dev.acdc.cli;

import dev.acdc.AcdcException;

import picocli.CommandLine.Command;
import picocli.CommandLine;

import java.io.PrintWriter;

/** The {@code acdc} command: subcommands over the library. */
@Command(name = "acdc", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Compress pretrained ONNX CNNs with Atom-Coefficient Decomposed Convolution (ACDC).", "",
                "Each spatial convolution becomes per-block atoms and shared coefficients, each 1x1 conv and wide "
                        + "classifier a low-rank product in the same terms; the result is a "
                        + "standard ONNX file that ONNX Runtime loads unchanged."},
        subcommands = {InspectCommand.class, CompressCommand.class, SensitivityCommand.class, QuantizeCommand.class, FinetuneCommand.class, TrainCommand.class,
                ValidateCommand.class,
                BenchCommand.class, TrainBenchCommand.class,
                MakeTestdataCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 success, 1 a requested check failed, 2 bad input or option, 3 internal error, "
                + "130 stopped by Ctrl-C (a fine-tune leaves a checkpoint).",
                "Add --verbose to any command for stack traces."})
public final class Main {

    public static void main(String[] args) {
        Colors.init(System.getenv("ACDC_COLOR"), System.getenv("NO_COLOR"));
        // the console's lines fit 100 columns unless --wide (tests call run() with writers of their own)
        int width = java.util.Arrays.asList(args).contains("--wide") ? 0
                : WrappingWriter.width(System.getenv("ACDC_COLUMNS"));
        WrappingWriter.console = width == 0 ? WrappingWriter.DEFAULT_WIDTH : width;
        PrintWriter err = new PrintWriter(new WrappingWriter(new java.io.OutputStreamWriter(System.err,
                java.nio.charset.Charset.defaultCharset()), width), true);
        Interrupts.installProcessWide(err);
        System.exit(run(new PrintWriter(new WrappingWriter(new java.io.OutputStreamWriter(System.out,
                java.nio.charset.Charset.defaultCharset()), width), true), err, args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int run(PrintWriter out, PrintWriter err, String... args) {
        dev.acdc.runtime.Sessions.showRuntimeWarnings(java.util.Arrays.asList(args).contains("--verbose"));
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        StagedHelp.install(cl);
        // a mistyped, missing or repeated option: one line naming it and where help is, not the whole usage
        cl.setParameterExceptionHandler((ex, cmdArgs) -> {
            CommandLine c = ex.getCommandLine();
            err.println("acdc: error: " + ex.getMessage() + hint(ex, cmdArgs) + " (see: "
                    + c.getCommandSpec().qualifiedName() + " --help)");
            return AcdcException.BAD_INPUT;
        });
        // an option of a stage's argument group given twice: refused as picocli refuses any other option
        cl.setExecutionStrategy(parsed -> {
            givenOnce(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean verbose = cmd.getParseResult() != null && cmd.getParseResult().hasMatchedOption("--verbose");
            if (ex instanceof dev.acdc.train.StopSignal.Stopped s) {
                err.println("acdc: " + s.getMessage());
                return s.exitCode();
            }
            if (ex instanceof AcdcException a) {
                err.println("acdc: " + (a.exitCode() == dev.acdc.train.StopSignal.EXIT_INTERRUPTED ? "" : "error: ")
                        + a.getMessage());
                if (verbose) {
                    a.printStackTrace(err);
                }
                return a.exitCode();
            }
            err.println("acdc: internal error: " + ex + (verbose ? "" : " (run with --verbose for details)"));
            if (verbose) {
                ex.printStackTrace(err);
            }
            return AcdcException.INTERNAL;
        });
        try {
            String[] expanded;
            try {
                expanded = Recipe.expand(cl, args);
            } catch (AcdcException e) {
                err.println("acdc: error: " + e.getMessage());
                return AcdcException.BAD_INPUT;
            }
            if (java.util.Arrays.asList(expanded).contains("--help-all")) {
                String[] help = expanded.clone();
                for (int i = 0; i < help.length; i++) {
                    help[i] = help[i].equals("--help-all") ? "--help" : help[i];
                }
                return StagedHelp.showingAll(() -> cl.execute(help));
            }
            return cl.execute(expanded);
        } catch (OutOfMemoryError e) {
            err.println("acdc: error: out of memory; give the JVM more with ACDC_JAVA_OPTS=-Xmx16g");
            return AcdcException.BAD_INPUT;
        } catch (Error e) {
            err.println("acdc: internal error: " + e);
            return AcdcException.INTERNAL;
        } finally {
            // a command's last print() (no newline, so no auto-flush) must reach the terminal before exit
            out.flush();
            err.flush();
        }
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"acdc " + (v == null ? "dev" : v)};
        }
    }

    /**
     * A hint for a common slip: an option misspelt ("did you mean --epochs?") or a list given with
     * spaces where acdc takes commas ("--mean 0.485 0.456 0.406").
     */
    /**
     * Refuses a single-valued option given more than once. picocli does so for a command's options, but an
     * argument group (one a stage) takes the last value without a word (--share layer --share stage).
     */
    static void givenOnce(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            for (CommandLine.Model.OptionSpec o : p.matchedOptions()) {
                if (o.group() != null && !o.isMultiValue() && o.originalStringValues().size() > 1) {
                    throw new CommandLine.ParameterException(p.commandSpec().commandLine(), "option '"
                            + o.longestName() + "' (" + o.paramLabel() + ") should be specified only once");
                }
            }
        }
    }

    static String hint(CommandLine.ParameterException ex, String[] args) {
        if (!(ex instanceof CommandLine.UnmatchedArgumentException u)) {
            return "";
        }
        java.util.List<String> unmatched = u.getUnmatched();
        if (unmatched.isEmpty()) {
            return "";
        }
        String first = unmatched.get(0);
        if (first.startsWith("-") && !first.matches("-?[0-9.]+")) {
            java.util.List<String> s = u.getSuggestions();
            return s.isEmpty() ? "" : "; did you mean " + s.get(0) + "?";
        }
        // a value after an option's value: was it a list written with spaces?
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals(first) && i >= 2 && args[i - 2].startsWith("--")) {
                java.util.List<String> values = new java.util.ArrayList<>();
                values.add(args[i - 1]);
                for (int j = i; j < args.length && !args[j].startsWith("--"); j++) {
                    values.add(args[j]);
                }
                return "; lists are comma-separated: " + args[i - 2] + " " + String.join(",", values);
            }
        }
        return "";
    }
}
