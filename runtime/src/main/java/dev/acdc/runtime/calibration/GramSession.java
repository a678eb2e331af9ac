package dev.acdc.runtime.calibration;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.acdc.AcdcException;
import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.ValueInfo;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.DirectFloats;
import dev.acdc.runtime.Sessions;

import java.util.List;
import java.util.Map;

/**
 * PᵀP and PᵀY of float matrices by ONNX Runtime's GEMM (two {@code Gemm} nodes with transA = 1):
 * the heavy part of accumulating calibration statistics, at BLAS speed on every core.
 */
final class GramSession implements AutoCloseable {
    private final Sessions.Opened opened;
    private final DirectFloats pIn = new DirectFloats();
    private final DirectFloats yIn = new DirectFloats();

    GramSession() {
        GraphBuilder b = GraphBuilder.create("acdc-gram");
        Graph g = b.graph();
        g.inputs().add(new ValueInfo("P", DataType.FLOAT,
                List.of(ValueInfo.Dim.symbol("rows"), ValueInfo.Dim.symbol("d")), null));
        g.inputs().add(new ValueInfo("Y", DataType.FLOAT,
                List.of(ValueInfo.Dim.symbol("rows"), ValueInfo.Dim.symbol("outputs")), null));
        String ptp = b.op("Gemm", "ptp", List.of("P", "P"), Attribute.ofInt("transA", 1));
        String pty = b.op("Gemm", "pty", List.of("P", "Y"), Attribute.ofInt("transA", 1));
        g.outputs().add(new ValueInfo(ptp, DataType.FLOAT, null, null));
        g.outputs().add(new ValueInfo(pty, DataType.FLOAT, null, null));
        byte[] bytes = OnnxModels.toBytes(Model.of(g, 13));
        opened = Sessions.open(bytes, Sessions.Config.cpu(), s -> { });
    }

    /** {PᵀP (d×d), PᵀY (d×e)} of P (rows×d) and Y (rows×e), row-major. */
    float[][] products(float[] p, float[] y, int rows, int d, int e) {
        try (OnnxTensor tp = pIn.tensor(p, 0, rows * d, new long[] {rows, d});
             OnnxTensor ty = yIn.tensor(y, 0, rows * e, new long[] {rows, e});
             OrtSession.Result r = opened.session().run(Map.of("P", tp, "Y", ty))) {
            return new float[][] {DirectFloats.floats((OnnxTensor) r.get(0)), DirectFloats.floats((OnnxTensor) r.get(1))};
        } catch (OrtException ex) {
            throw new AcdcException("ONNX Runtime failed on the calibration statistics: "
                    + ex.getMessage().lines().findFirst().orElse(""));
        }
    }

    @Override
    public void close() {
        opened.close();
    }
}
