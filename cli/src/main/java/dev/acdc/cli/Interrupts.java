package dev.acdc.cli;

import dev.acdc.AcdcException;

import java.lang.reflect.Proxy;

/**
 * Ctrl-C (SIGINT) handling for long runs. A JVM shutdown hook is no place to finish a training step:
 * ND4J and ONNX Runtime free their native memory in their own hooks, concurrently. So the signal itself
 * is caught (through {@code sun.misc.Signal}, reached reflectively: it is the JDK's supported-but-internal
 * API) and only sets a flag the trainer checks between steps. A second Ctrl-C quits at once.
 */
final class Interrupts {
    /** How long a stage without safe points may take to reach one before a Ctrl-C ends the process anyway. */
    static final long GRACE_MILLIS = 5000;

    private static volatile boolean requested;

    private Interrupts() {
    }

    /**
     * The process-wide handler, installed once by {@code main} (tests, which call {@code Main.run}, keep
     * the JVM's): the first Ctrl-C asks the running command to stop at its next safe point
     * ({@link #checkpoint}: between validation batches, fit steps, stages), where it throws, every staged
     * output is deleted by its {@code close()}, native sessions close in order, and the process exits 130 —
     * so no ONNX Runtime call is torn down mid-flight (which crashed the JVM). A stage that reaches no
     * safe point within {@link #GRACE_MILLIS}, or a second Ctrl-C, deletes the staged files and halts
     * with 130. A fine-tune puts its own handler on top while it trains (stop after the step, checkpoint).
     */
    static void installProcessWide(java.io.PrintWriter err) {
        onSigint(() -> {
            requested = true;
            err.println();
            err.println("acdc: Ctrl-C: stopping (Ctrl-C again quits at once)");
            err.flush();
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(GRACE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                halt();
            }, "acdc-ctrl-c-grace");
            t.setDaemon(true);
            t.start();
        });
    }

    /** Throws the interruption when Ctrl-C was pressed; a no-op otherwise (cheap: one volatile read). */
    static void checkpoint() {
        if (requested) {
            throw new AcdcException(dev.acdc.train.StopSignal.EXIT_INTERRUPTED,
                    "interrupted by Ctrl-C; no output was written or replaced", null);
        }
    }

    /** Progress lines ("acdc: …") on {@code err}, each a safe point for Ctrl-C. */
    static java.util.function.Consumer<String> progress(java.io.PrintWriter err) {
        return msg -> {
            checkpoint();
            err.println("acdc: " + msg);
        };
    }

    /** Ends the process now with 130, leaving no temporary file behind. */
    static void halt() {
        dev.acdc.util.AtomicFiles.deleteTemporaryFiles();
        Runtime.getRuntime().halt(dev.acdc.train.StopSignal.EXIT_INTERRUPTED);
    }

    /** A handler installed until {@link #close()}, which puts the previous one back. */
    static final class Handler implements AutoCloseable {
        private final Object previous;

        private Handler(Object previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous != null) {
                install(previous);
            }
        }
    }

    /**
     * Calls {@code first} on the first SIGINT; exits with status 130 on the second. Where the JDK offers no
     * signal API the default behaviour (exit at once) stays.
     */
    static Handler onSigint(Runnable first) {
        try {
            Class<?> iface = Class.forName("sun.misc.SignalHandler");
            boolean[] seen = {false};
            Object handler = Proxy.newProxyInstance(Interrupts.class.getClassLoader(), new Class<?>[] {iface},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            if (seen[0]) {
                                halt();
                            }
                            seen[0] = true;
                            first.run();
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        case "toString" -> "acdc SIGINT handler";
                        default -> null;
                    });
            return new Handler(install(handler));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return new Handler(null);
        }
    }

    /** Installs a sun.misc.SignalHandler for INT; returns the one it replaces. */
    private static Object install(Object handler) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> iface = Class.forName("sun.misc.SignalHandler");
            Object sigint = signal.getConstructor(String.class).newInstance("INT");
            return signal.getMethod("handle", signal, iface).invoke(null, sigint, handler);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
