package dev.acdc.runtime.workflow;

import dev.acdc.decompose.FileEncoding;
import dev.acdc.inspect.ModelSummary;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.NarrowToFloat16;
import dev.acdc.passes.PassManager;
import dev.acdc.runtime.quantize.Quantization;

import java.util.List;
import java.util.Locale;

/**
 * The file's bytes: the float model in the request's encoding (short names, local functions), and with
 * {@code --quantize} its int8 form, which is then the one written.
 */
final class EncodeStage implements CompressionStage {
    @Override
    public void run(CompressionRun s) {
        CompressionJob.Request r = s.r;
        FileEncoding enc = r.encode().encoding();
        // the encoding renames a copy: the report names the layers as the input does (its plan holds the nodes)
        byte[] raw = enc.any() || s.float16 != null ? OnnxModels.toBytes(s.c.model()) : null;
        long plain = raw == null ? 0 : raw.length;
        s.encoded = raw != null ? OnnxModels.fromBytes(raw, null) : s.c.model();
        if (s.float16 != null) { // back to float16, as the model came
            new PassManager(List.of(new NarrowToFloat16(s.float16, true))).run(s.encoded);
            plain = OnnxModels.toBytes(s.encoded).length;
        }
        enc.apply(s.encoded);
        s.floatBytes = OnnxModels.toBytes(s.encoded);
        if (enc.any()) {
            long saved = plain - s.floatBytes.length;
            s.c.notes().add(String.format(Locale.ROOT, "file: %s: %,d bytes saved (%.1f %% of %,d)%s", enc.describe(),
                    saved, 100.0 * saved / plain, plain, enc.equals(FileEncoding.DEFAULT)
                            ? "; the default, same values (--keep-names, --no-local-functions opt out)" : ""));
        }
        s.written = s.encoded;
        if (r.encode().quantize() != null) {
            long t = System.nanoTime();
            s.listener.note("quantizing to " + r.encode().quantize().mode().id());
            s.quantized = Quantization.run(s.c.model(), r.encode().quantize(), s.images, s.progress);
            s.written = s.quantized.model();
            if (s.float16 != null) { // int8 weights compute in float: the interface is the input's again
                new PassManager(List.of(new NarrowToFloat16(s.float16, false))).run(s.written);
            }
            s.c.timings().put("quantize", s.seconds(t));
        }
        s.bytes = s.written == s.encoded ? s.floatBytes : OnnxModels.toBytes(s.written);
        s.after = ModelSummary.of(s.written, r.load().inputShape(), s.bytes.length);
    }
}
