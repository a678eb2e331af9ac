package dev.acdc.cli;

import dev.acdc.runtime.calibration.QuantizationCalibration;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.util.Table;

import java.util.Locale;

/** The text summary of an int8 stage (quantize, compress --quantize). */
final class QuantizationText {
    private QuantizationText() {
    }

    /** The text summary: what was quantized, bytes, and the worst layers. */
    static String summary(Quantization.Outcome q, long bytesBefore, long bytesAfter) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: %d node(s) quantized, %d kept float; %,d -> %,d bytes (%.1f %%)%n",
                q.result().mode().id(), q.result().quantized().size(), q.result().keptFloat().size(), bytesBefore,
                bytesAfter, 100.0 * bytesAfter / Math.max(1, bytesBefore)));
        for (String k : q.result().keptFloat()) {
            sb.append("kept float: ").append(k).append('\n');
        }
        for (String n : q.result().notes()) {
            sb.append("note: ").append(dev.acdc.util.Text.printable(n)).append('\n');
        }
        if (!q.layerErrors().isEmpty()) {
            Table t = new Table("layer", "relative error", "SQNR dB");
            for (QuantizationCalibration.LayerError e : q.layerErrors()) {
                t.row(e.layer(), String.format(Locale.ROOT, "%.4f", e.relativeError()),
                        Double.isFinite(e.sqnrDb()) ? String.format(Locale.ROOT, "%.1f", e.sqnrDb()) : "exact");
            }
            sb.append("per-layer output error against the float model (calibration images):\n").append(t);
        }
        return sb.toString();
    }
}
