package dev.acdc.cli;

import java.lang.reflect.Proxy;

/**
 * Ctrl-C (SIGINT) handling for long runs. A JVM shutdown hook is no place to finish a training step:
 * ND4J and ONNX Runtime free their native memory in their own hooks, concurrently. So the signal itself
 * is caught (through {@code sun.misc.Signal}, reached reflectively: it is the JDK's supported-but-internal
 * API) and only sets a flag the trainer checks between steps. A second Ctrl-C quits at once.
 */
final class Interrupts {
    private Interrupts() {
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
                                Runtime.getRuntime().halt(dev.acdc.train.StopSignal.EXIT_INTERRUPTED);
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
