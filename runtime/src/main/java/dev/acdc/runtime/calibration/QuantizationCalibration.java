package dev.acdc.runtime.calibration;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.acdc.AcdcException;
import dev.acdc.ir.Model;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.runtime.Sessions;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What int8 quantization measures in ONNX Runtime: the activation statistics of the calibration
 * images (two passes: range, then histograms), the values of kernels computed by a constant chain,
 * and the per-layer output error of a quantized model against its float original.
 */
public final class QuantizationCalibration {
    /** Images per ONNX Runtime call (bounded further by the size of the exposed activations). */
    static final int BATCH = 32;
    /** At most this many activation values are held per call (256 MB of floats). */
    static final long MAX_VALUES_PER_CALL = 1L << 26;

    /** One layer's output error: relative L2 error and signal-to-quantization-noise ratio. */
    public record LayerError(String layer, String value, double relativeError, double sqnrDb) {
    }

    private QuantizationCalibration() {
    }

    /**
     * The statistics of each of {@code tensors} of {@code m} on {@code images}; {@code histograms}
     * false: the range pass only (enough for min-max). A tensor holding NaN or Inf is refused.
     */
    public static Map<String, RangeStatistics> statistics(Model m, List<String> tensors, CalibrationImages images,
                                                          boolean histograms, Consumer<String> progress) {
        Map<String, RangeStatistics> stats = new LinkedHashMap<>();
        for (String t : tensors) {
            stats.put(t, new RangeStatistics());
        }
        if (tensors.isEmpty()) {
            return stats;
        }
        byte[] bytes = ActivationModels.exposing(m, tensors);
        String input = m.graph().dataInputs().get(0).name();
        try (Sessions.Opened s = Sessions.open(bytes, Sessions.Config.cpu(), x -> { })) {
            int fixed = fixedBatch(m);
            int batch = fixed > 0 ? fixed : batchSize(s.session(), input, images);
            for (int pass = 0; pass < (histograms ? 2 : 1); pass++) {
                for (int start = 0; start + (fixed > 0 ? fixed : 1) <= images.count(); start += batch) {
                    int n = Math.min(batch, images.count() - start);
                    Map<String, float[]> out = run(s.session(), input, images, start, n, "calibrating the int8 ranges");
                    for (String t : tensors) {
                        float[] v = out.get(t);
                        if (pass == 0) {
                            stats.get(t).observeRange(v, 0, v.length);
                        } else {
                            stats.get(t).observeHistogram(v, 0, v.length);
                        }
                    }
                }
                progress.accept(pass == 0 ? "int8 calibration: ranges of " + tensors.size() + " activations on "
                        + images.count() + " images" : "int8 calibration: histograms");
            }
        }
        for (Map.Entry<String, RangeStatistics> e : stats.entrySet()) {
            if (e.getValue().nonFinite() > 0) {
                throw new AcdcException("activation '" + e.getKey() + "' holds " + e.getValue().nonFinite()
                        + " NaN or infinite values on the calibration images; it cannot be quantized");
            }
        }
        return stats;
    }

    /** The values of constant {@code values} of {@code m} (kernels computed by a chain), by ONNX Runtime. */
    public static Map<String, float[]> constants(Model m, List<String> values) {
        if (values.isEmpty()) {
            return Map.of();
        }
        byte[] bytes = ActivationModels.exposing(m, values, false);
        try (Sessions.Opened s = Sessions.open(bytes, Sessions.Config.cpu(), x -> { });
             OrtSession.Result r = s.session().run(Map.of())) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxValue> e : r) {
                out.put(e.getKey(), floats((OnnxTensor) e.getValue()));
            }
            return out;
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed computing the kernels to quantize: "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /**
     * Each layer's output error on the first {@code limit} of {@code images}: {@code layers} maps a label
     * to {value in the float model, value in the quantized model}.
     */
    public static List<LayerError> layerErrors(Model floatModel, Model quantized, Map<String, String[]> layers,
                                               CalibrationImages images, int limit) {
        List<String> fNames = new ArrayList<>();
        List<String> qNames = new ArrayList<>();
        for (String[] v : layers.values()) {
            fNames.add(v[0]);
            qNames.add(v[1]);
        }
        List<LayerError> out = new ArrayList<>();
        if (layers.isEmpty()) {
            return out;
        }
        double[] signal = new double[fNames.size()];
        double[] noise = new double[fNames.size()];
        String input = floatModel.graph().dataInputs().get(0).name();
        int count = Math.min(limit, images.count());
        try (Sessions.Opened fs = Sessions.open(ActivationModels.exposing(floatModel, fNames), Sessions.Config.cpu(), x -> { });
             Sessions.Opened qs = Sessions.open(ActivationModels.exposing(quantized, qNames), Sessions.Config.cpu(), x -> { })) {
            int fixed = fixedBatch(floatModel);
            int batch = fixed > 0 ? fixed : batchSize(fs.session(), input, images);
            for (int start = 0; start + (fixed > 0 ? fixed : 1) <= count; start += batch) {
                int n = Math.min(batch, count - start);
                Map<String, float[]> f = run(fs.session(), input, images, start, n, "measuring the int8 error");
                Map<String, float[]> q = run(qs.session(), input, images, start, n, "measuring the int8 error");
                for (int i = 0; i < fNames.size(); i++) {
                    float[] a = f.get(fNames.get(i));
                    float[] b = q.get(qNames.get(i));
                    for (int k = 0; k < a.length; k++) {
                        double d = (double) b[k] - a[k];
                        signal[i] += (double) a[k] * a[k];
                        noise[i] += d * d;
                    }
                }
            }
        }
        int i = 0;
        for (Map.Entry<String, String[]> e : layers.entrySet()) {
            double rel = signal[i] > 0 ? Math.sqrt(noise[i] / signal[i]) : (noise[i] > 0 ? Double.POSITIVE_INFINITY : 0);
            double sqnr = noise[i] > 0 ? 10 * Math.log10(signal[i] / noise[i]) : Double.POSITIVE_INFINITY;
            out.add(new LayerError(e.getKey(), e.getValue()[0], rel, sqnr));
            i++;
        }
        return out;
    }

    /**
     * The batch a model's input fixes (most device exports take exactly 1), or 0 where it is open; with a fixed
     * batch of k > 1 the last images short of a whole batch are left out.
     */
    static int fixedBatch(Model m) {
        long[] declared = m.graph().dataInputs().get(0).shape();
        return declared != null && declared.length > 0 && declared[0] > 0 ? (int) declared[0] : 0;
    }

    /** Images per call so that the exposed outputs stay under {@link #MAX_VALUES_PER_CALL}. */
    private static int batchSize(OrtSession s, String input, CalibrationImages images) {
        Map<String, float[]> one = run(s, input, images, 0, 1, "calibrating");
        long per = 0;
        for (float[] v : one.values()) {
            per += v.length;
        }
        return (int) Math.max(1, Math.min(BATCH, MAX_VALUES_PER_CALL / Math.max(1, per)));
    }

    private static Map<String, float[]> run(OrtSession s, String input, CalibrationImages images, int start, int n,
                                            String what) {
        int per = images.perSample();
        long[] shape = new long[images.sampleShape().length + 1];
        shape[0] = n;
        System.arraycopy(images.sampleShape(), 0, shape, 1, images.sampleShape().length);
        try (OnnxTensor t = OnnxTensor.createTensor(Sessions.env(), FloatBuffer.wrap(images.x(), start * per, n * per), shape);
             OrtSession.Result r = s.run(Map.of(input, t))) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxValue> e : r) {
                out.put(e.getKey(), floats((OnnxTensor) e.getValue()));
            }
            return out;
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed " + what + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static float[] floats(OnnxTensor v) {
        FloatBuffer fb = v.getFloatBuffer();
        float[] f = new float[fb.remaining()];
        fb.get(f);
        return f;
    }
}
