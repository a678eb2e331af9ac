package dev.acdc.runtime.workflow;

import dev.acdc.decompose.Settings;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.report.CompressReport;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.Ort;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ConvTranspose's kernel [I, O/group, kh, kw] is decomposed with the same atoms and coefficients as a
 * Conv's, over its own layout: exact at full rank in ONNX Runtime, smaller by default, measured right.
 */
class TransposedConvTest {
    @TempDir
    Path tmp;

    private CompressionJob.Outcome compress(Model m, String atoms, String blockGroup, List<String> notes) {
        Path model = tmp.resolve("decoder.onnx");
        OnnxModels.save(m, model, null);
        return CompressionJob.run(CompressionJob.Request.of(model, Settings.of("layer", atoms, blockGroup, null, null),
                tmp.resolve("decoder.acdc.onnx")), notes::add);
    }

    /**
     * Full rank — as many atoms as the [g·g, blocks·9] matrix a set factors has columns: 9 with one 16-wide
     * block, 36 with group 2 (its 16×8 kernel makes the automatic block 8 wide: 2×1 blocks, 2×2 in the head), 36 with 8-wide
     * blocks (2×2 of them) — the written model computes the original, the ConvTranspose's kernel computed.
     */
    @ParameterizedTest
    @CsvSource({"1, 9, auto", "2, 36, auto", "1, 36, 8"})
    void fullRankIsExact(int group, String atoms, String blockGroup) {
        Model m = ModelGenerators.withTransposedConv(3, 8, 16, 5, group, 3);
        byte[] original = OnnxModels.toBytes(m);
        CompressionJob.Outcome o = compress(m, atoms, blockGroup, new ArrayList<>());
        List<String> decomposed = o.report().convs().stream().filter(CompressReport.Conv::decomposed).map(CompressReport.Conv::name).toList();
        assertEquals(List.of("up", "head"), decomposed, "the transposed conv and the conv after it");
        Model written = OnnxModels.fromBytes(o.bytes(), null);
        Node up = written.graph().nodes().stream().filter(n -> n.is("ConvTranspose")).findFirst().orElseThrow();
        assertTrue(!written.graph().isInitializer(up.input(1)), "its kernel comes from the ACDC chain");
        assertEquals(group, up.attrInt("group", 1));
        long[] shape = {3, 3, 8, 8};
        float[] x = Ort.randomInput(shape, 5);
        float[] a = Ort.run(original, x, shape);
        float[] b = Ort.run(o.bytes(), x, shape);
        assertTrue(Ort.maxAbsDiff(a, b) <= 1e-4, "group " + group + ": max |logit diff| " + Ort.maxAbsDiff(a, b));
    }

    /**
     * The default compresses it (smaller, kernel error below 1 and above 0), and the census and MACs count a
     * ConvTranspose's kernel once per input position: 16·16·9 MACs × 4×4 positions per image.
     */
    @ParameterizedTest
    @ValueSource(ints = {1})
    void theDefaultCompressesAndMeasuresIt(int group) {
        Model m = ModelGenerators.withTransposedConv(3, 8, 16, 5, group, 4);
        ModelSummary s = ModelSummary.of(m, null, 0);
        dev.acdc.inspect.ConvInfo up = s.convs().stream().filter(c -> c.name().equals("up")).findFirst().orElseThrow();
        assertEquals("transposed", up.kind());
        assertEquals(16L * 16 * 9 * 4 * 4, up.macs());
        assertEquals(16L * 16 * 9 + 16, up.params());
        List<String> notes = new ArrayList<>();
        CompressionJob.Outcome o = compress(m, null, null, notes);
        CompressReport.Conv c = o.report().convs().stream().filter(v -> v.name().equals("up")).findFirst().orElseThrow();
        assertTrue(c.decomposed(), c.toString());
        assertTrue(c.relError() > 0 && c.relError() < 1, c.toString());
        assertTrue(o.report().output().bytes() < o.report().input().bytes(), "smaller");
    }
}
