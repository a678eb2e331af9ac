package dev.acdc.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Chooses ND4J's oneDNN build before ND4J loads: the build ships both the plain and the
 * {@code onednn-avx2} native libraries, and JavaCPP picks the oneDNN one only when told
 * ({@code org.bytedeco.javacpp.platform.extension=-onednn-avx2}) — a training step runs several
 * times faster with it. Left alone when the user set the property, or when the CPU lacks AVX2.
 */
public final class Nd4jSetup {
    private static final String KEY = "org.bytedeco.javacpp.platform.extension";

    private Nd4jSetup() {
    }

    public static synchronized void init() {
        if (System.getProperty(KEY) == null && avx2()) {
            System.setProperty(KEY, "-onednn-avx2");
        }
    }

    static boolean avx2() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo")).contains(" avx2");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** "cpu (oneDNN, avx2)" or the like, for the run's banner. */
    public static String describe() {
        String ext = System.getProperty(KEY, "");
        String backend = org.nd4j.linalg.factory.Nd4j.getBackend().getClass().getSimpleName();
        return backend.replace("Backend", "") + (ext.isEmpty() ? "" : " (" + ext.substring(1) + ")")
                + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }
}
