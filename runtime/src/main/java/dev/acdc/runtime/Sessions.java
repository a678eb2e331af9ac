package dev.acdc.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.acdc.AcdcException;

import java.util.function.Consumer;

/**
 * The one place ONNX Runtime sessions are made: provider choice (CUDA with fallback to CPU),
 * thread count and graph-optimisation level.
 */
public final class Sessions {
    /** How to make sessions; {@code threads} 0 = ONNX Runtime's default. */
    public record Config(Provider provider, boolean strict, int threads, OrtSession.SessionOptions.OptLevel optLevel) {
        public static Config cpu() {
            return new Config(Provider.CPU, false, 0, OrtSession.SessionOptions.OptLevel.ALL_OPT);
        }

        /** All of ONNX Runtime's graph optimisations, on the given provider and thread count (0: its default). */
        public static Config of(Provider provider, boolean strict, int threads) {
            return new Config(provider, strict, threads, OrtSession.SessionOptions.OptLevel.ALL_OPT);
        }
    }

    /** A session and the provider it actually runs on. */
    public record Opened(OrtSession session, String provider) implements AutoCloseable {
        @Override
        public void close() {
            try {
                session.close();
            } catch (OrtException e) {
                // closing a session only frees memory; nothing to report
            }
        }
    }

    private Sessions() {
    }

    /** Whether ONNX Runtime's own warnings are shown (the command's --verbose); errors always are. */
    private static volatile boolean ortWarnings = false;

    /** Shows ONNX Runtime's warnings (a command run with --verbose) or only its errors (the default). */
    public static void showRuntimeWarnings(boolean on) {
        ortWarnings = on;
    }

    public static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment();
    }

    /** Whether this ONNX Runtime build has the CUDA provider compiled in. */
    /**
     * A float input for a session input of element type {@code type}: the floats themselves, or for a float16
     * model's input (FLOAT16, BFLOAT16) the floats rounded to that type, so float16 files run as they are.
     */
    public static ai.onnxruntime.OnnxTensor floatInput(java.nio.FloatBuffer x, long[] shape, ai.onnxruntime.OnnxJavaType type)
            throws ai.onnxruntime.OrtException {
        if (type == ai.onnxruntime.OnnxJavaType.FLOAT16) {
            return ai.onnxruntime.OnnxTensor.createTensor(env(),
                    ai.onnxruntime.platform.Fp16Conversions.convertFloatBufferToFp16Buffer(x), shape, type);
        }
        if (type == ai.onnxruntime.OnnxJavaType.BFLOAT16) {
            return ai.onnxruntime.OnnxTensor.createTensor(env(),
                    ai.onnxruntime.platform.Fp16Conversions.convertFloatBufferToBf16Buffer(x), shape, type);
        }
        return ai.onnxruntime.OnnxTensor.createTensor(env(), x, shape);
    }

    /** Whether an output of this type is read as floats (float, or float16 widened exactly). */
    public static boolean floatOutput(ai.onnxruntime.OnnxJavaType type) {
        return type == ai.onnxruntime.OnnxJavaType.FLOAT || type == ai.onnxruntime.OnnxJavaType.FLOAT16
                || type == ai.onnxruntime.OnnxJavaType.BFLOAT16;
    }

    public static boolean cudaBuild() {
        return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    }

    /** Opens a session on serialized model bytes; {@code notice} receives one-line fallback notices. */
    public static Opened open(byte[] model, Config cfg, Consumer<String> notice) {
        String provider = "cpu";
        try {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setOptimizationLevel(cfg.optLevel());
            // ONNX Runtime's warnings (unused initializers, shape merges, ...) are about its graph optimiser, not
            // the user's model; they pass through with --verbose
            o.setSessionLogLevel(ortWarnings ? ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING
                    : ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            if (cfg.threads() > 0) {
                o.setIntraOpNumThreads(cfg.threads());
            }
            if (cfg.provider() != Provider.CPU) {
                String why = null;
                if (!cudaBuild()) {
                    why = "this build of ONNX Runtime has no CUDA provider (build with mvn -Pcuda)";
                } else {
                    try {
                        o.addCUDA(0);
                        provider = "cuda";
                    } catch (OrtException e) {
                        // ONNX Runtime logs the real cause (a missing libcublasLt.so.12, say) itself; its
                        // exception text is often an unrelated internal message
                        why = "CUDA is not usable here: ONNX Runtime's CUDA provider did not load (it needs an "
                                + "NVIDIA GPU, its driver, and the CUDA 12 and cuDNN 9 libraries on the library path; "
                                + "ONNX Runtime's own log line names what is missing)";
                    }
                }
                if (why != null) {
                    if (cfg.provider() == Provider.CUDA && cfg.strict()) {
                        throw new AcdcException("--provider cuda --strict: " + why);
                    }
                    if (cfg.provider() == Provider.CUDA || cudaBuild()) {
                        notice.accept("running on CPU: " + why);
                    }
                }
            }
            return new Opened(env().createSession(model, o), provider);
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime cannot load the model: " + firstLine(e.getMessage()));
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
