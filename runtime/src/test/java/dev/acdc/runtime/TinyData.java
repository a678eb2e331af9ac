package dev.acdc.runtime;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Hand-made models and IDX files for exact metric tests. */
final class TinyData {
    private TinyData() {
    }

    /** [N,1,2,2] → Flatten → Gemm with a given 5×4 weight: logits = W·pixels. */
    static byte[] linearModel(float[] w5x4) {
        GraphBuilder b = GraphBuilder.create("linear");
        String x = b.input("x", DataType.FLOAT, -1, 1, 2, 2);
        String f = b.op("Flatten", "flat", List.of(x), Attribute.ofInt("axis", 1));
        String w = b.initializer("w", new long[] {5, 4}, w5x4);
        String y = b.op("Gemm", "fc", List.of(f, w), Attribute.ofInt("transB", 1));
        b.output(y, DataType.FLOAT, -1, 5);
        return OnnxModels.toBytes(Model.of(b.graph(), 13));
    }

    static void writeIdx(Path images, Path labels, byte[][] pixels, int h, int w, int[] lab, boolean gzip)
            throws IOException {
        ByteArrayOutputStream bi = new ByteArrayOutputStream();
        DataOutputStream di = new DataOutputStream(bi);
        di.writeInt(0x00000803);
        di.writeInt(pixels.length);
        di.writeInt(h);
        di.writeInt(w);
        for (byte[] p : pixels) {
            di.write(p);
        }
        ByteArrayOutputStream bl = new ByteArrayOutputStream();
        DataOutputStream dl = new DataOutputStream(bl);
        dl.writeInt(0x00000801);
        dl.writeInt(lab.length);
        for (int l : lab) {
            dl.writeByte(l);
        }
        write(images, bi.toByteArray(), gzip);
        write(labels, bl.toByteArray(), gzip);
    }

    private static void write(Path p, byte[] b, boolean gzip) throws IOException {
        try (OutputStream os = gzip ? new GZIPOutputStream(Files.newOutputStream(p)) : Files.newOutputStream(p)) {
            os.write(b);
        }
    }
}
