package dev.acdc.train;

import dev.acdc.AcdcException;

/**
 * Whether the training engine (ND4J) is on the class path. It is an optional dependency of this module: a
 * library user who compresses, validates, quantizes or serves (acdc-runtime) does not pull its native jars;
 * fine-tuning and block recovery need it, and the command line carries it. This class loads no ND4J class.
 */
public final class TrainingEngine {
    /** The class whose presence means ND4J is there. */
    static final String PROBE = "org.nd4j.linalg.factory.Nd4j";

    private TrainingEngine() {
    }

    public static boolean available() {
        try {
            Class.forName(PROBE, false, TrainingEngine.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Throws, naming {@code what} and how to get the engine, when ND4J is not on the class path. */
    public static void require(String what) {
        if (!available()) {
            throw new AcdcException(what + " needs ND4J, acdc's training engine, which is not on the class path: add "
                    + "org.nd4j:nd4j-native with its platform classifier to your dependencies (docs/api.md), or run "
                    + "the acdc command line, which carries it");
        }
    }
}
