package dev.acdc.runtime;

import dev.acdc.AcdcException;
import dev.acdc.onnx.OnnxModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Reads a just-written model file back before it takes the output's name: acdc's own reader must parse
 * it, and ONNX Runtime must load it and give, on a probe batch, the outputs the in-memory model gives.
 * Used as the {@code verify} step of {@link OnnxModels#save(dev.acdc.ir.Model, Path, Path, Consumer)}.
 */
public final class WrittenModelCheck {
    private WrittenModelCheck() {
    }

    /** A verifier of the written file against {@code inMemory} on a random probe batch of {@code shape}. */
    public static Consumer<Path> against(byte[] inMemory, long[] shape, Consumer<String> report) {
        float[] x = Probe.randomInput(shape, 4321);
        return written -> {
            // the two sessions load and run side by side
            java.util.concurrent.CompletableFuture<float[]> fa = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (Sessions.Opened a = Sessions.open(inMemory, Probe.CONFIG, q -> { })) {
                    return Probe.run(a.session(), x, shape);
                }
            });
            check(written, x, shape, () -> {
                try {
                    return fa.join();
                } catch (java.util.concurrent.CompletionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : e;
                }
            }, report);
        };
    }

    /**
     * A verifier of the written file against the outputs {@code want} that the in-memory model gave on
     * {@code x} (e.g. in {@link Probe#compare}, with the same session settings): one session less.
     */
    public static Consumer<Path> againstOutputs(float[] x, float[] want, long[] shape, Consumer<String> report) {
        return written -> check(written, x, shape, () -> want, report);
    }

    private static void check(Path written, float[] x, long[] shape, java.util.function.Supplier<float[]> expected,
                              Consumer<String> report) {
        byte[] onDisk;
        try {
            onDisk = Files.readAllBytes(written);
        } catch (IOException e) {
            throw new AcdcException("cannot read back the written model: " + e.getMessage());
        }
        try {
            OnnxModels.fromBytes(onDisk, written.toAbsolutePath().getParent());
        } catch (AcdcException e) {
            throw new AcdcException(AcdcException.CHECK_FAILED, "the written file does not read back ("
                    + e.getMessage() + "); nothing was written", null);
        }
        float[] got;
        try (Sessions.Opened b = Sessions.open(onDisk, Probe.CONFIG, q -> { })) {
            got = Probe.run(b.session(), x, shape);
        } catch (AcdcException e) {
            throw new AcdcException(AcdcException.CHECK_FAILED, "ONNX Runtime cannot run the written file ("
                    + e.getMessage() + "); nothing was written", null);
        }
        float[] want = expected.get();
        double max = got.length == want.length ? 0 : Double.POSITIVE_INFINITY;
        double scale = 0;
        for (int i = 0; i < want.length && i < got.length; i++) {
            boolean same = Float.isNaN(want[i]) ? Float.isNaN(got[i]) : want[i] == got[i];
            if (!same) {
                max = Math.max(max, Float.isNaN(got[i]) ? Double.POSITIVE_INFINITY : Math.abs(want[i] - got[i]));
            }
            if (Float.isFinite(want[i])) {
                scale = Math.max(scale, Math.abs(want[i]));
            }
        }
        // the same bytes give the same numbers; allow float noise only
        if (max > 1e-6 * Math.max(1, scale)) {
            throw new AcdcException(AcdcException.CHECK_FAILED, "the written file does not reproduce the model "
                    + "in memory (max |output diff| " + String.format("%.3g", max)
                    + " on a probe batch); nothing was written", null);
        }
        report.accept("reloaded the written file in ONNX Runtime: outputs equal the in-memory model's on a probe "
                + "batch " + java.util.Arrays.toString(shape));
    }
}
