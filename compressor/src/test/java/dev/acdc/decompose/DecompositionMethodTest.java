package dev.acdc.decompose;

import dev.acdc.AcdcException;
import dev.acdc.decompose.fullrank.FullRankMethod;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decomposition-method seam: ACDC behind it unchanged, a second method by one registration. */
class DecompositionMethodTest {
    @TempDir
    Path tmp;

    @Test
    void acdcIsTheRegisteredDefaultAndAnUnknownMethodIsNamed() {
        assertEquals(List.of("acdc"), DecompositionMethods.ids());
        assertInstanceOf(AcdcMethod.class, DecompositionMethods.get(Settings.defaults().method()));
        AcdcException e = assertThrows(AcdcException.class, () -> Settings.defaults().withMethod("tucker"));
        assertEquals("unknown --method 'tucker'; registered: acdc", e.getMessage());
    }

    /** A service file naming the class is all a method needs to be found, after ACDC. */
    @Test
    void aServiceFileRegistersASecondMethod() throws Exception {
        Path services = Files.createDirectories(tmp.resolve("META-INF/services"));
        Files.writeString(services.resolve(DecompositionMethod.class.getName()), FullRankMethod.class.getName() + "\n");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {tmp.toUri().toURL()}, getClass().getClassLoader())) {
            Map<String, DecompositionMethod> found = DecompositionMethods.load(loader);
            assertEquals(List.of("acdc", FullRankMethod.ID), List.copyOf(found.keySet()));
            assertInstanceOf(FullRankMethod.class, found.get(FullRankMethod.ID));
        }
    }

    /** Compress through the seam with the default method writes what ACDC wrote before it existed. */
    @Test
    void theDefaultRunsAcdcAndRecordsItAsBefore() {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        Compressor.Result r = Compressor.compress(m, Settings.of("layer", null, "8", null, null), s -> { });
        assertInstanceOf(AcdcMethod.class, r.method());
        assertFalse(r.model().metadata().containsKey("acdc.method"), "ACDC files keep their metadata keys");
        assertEquals("layer", r.model().metadata().get("acdc.share"));
        assertEquals(Integer.toString(r.plan().sets().size()), r.model().metadata().get("acdc.sets"));
    }

    /**
     * The second method forms its own sets and atom counts, and its model is exact in ONNX Runtime, records
     * its name and its own metadata, and none of ACDC's.
     */
    @Test
    void aSecondMethodPlansFitsAndExportsItsOwnWay() {
        Model original = ModelGenerators.residual(3, 8, 16, 5, 1);
        byte[] originalBytes = OnnxModels.toBytes(original);
        Compressor.Result r = Compressor.compress(OnnxModels.fromBytes(originalBytes, null),
                Settings.of("net", "2", "8", null, null), new FullRankMethod(), s -> { }, null);
        assertEquals(FullRankMethod.ID, r.plan().settings().method());
        assertTrue(r.plan().sets().size() > 1, "one set per conv, not the single set --share net asked ACDC for");
        for (ConvPlan c : r.plan().decomposed()) {
            assertEquals(9, r.plan().set(c.setId()).atoms(), c.name());
            assertTrue(r.decomposition().relError(c) < 1e-6, c.name() + ": " + r.decomposition().relError(c));
        }
        Map<String, String> meta = r.model().metadata();
        assertEquals(FullRankMethod.ID, meta.get("acdc.method"));
        assertEquals(Integer.toString(r.plan().sets().size()), meta.get("acdc.full_rank_sets"));
        assertFalse(meta.containsKey("acdc.share"), meta.toString());
        long[] shape = {2, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 3);
        float[] a = Ort.run(originalBytes, x, shape);
        float[] b = Ort.run(OnnxModels.toBytes(r.model()), x, shape);
        assertTrue(Ort.maxAbsDiff(a, b) < 1e-4, "max |logit diff| " + Ort.maxAbsDiff(a, b));
        assertEquals(2 * 5, a.length, "two images, five classes");
    }
}
