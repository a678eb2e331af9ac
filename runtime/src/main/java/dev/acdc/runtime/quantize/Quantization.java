package dev.acdc.runtime.quantize;

import dev.acdc.AcdcException;
import dev.acdc.decompose.WeightRoles;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.passes.CompactNames;
import dev.acdc.decompose.FileEncoding;
import dev.acdc.passes.PassManager;
import dev.acdc.passes.ShareEqualConstants;
import dev.acdc.quantize.Quantizer;
import dev.acdc.quantize.RangeStatistics;
import dev.acdc.report.QuantizationSection;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.QuantizationCalibration;
import dev.acdc.util.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The int8 stage of a job: prepares the float model, calibrates it in ONNX Runtime (static mode),
 * rewrites it with {@link Quantizer}, records what it did in the model's metadata
 * ({@value #METADATA_KEY}) and measures each quantized layer's output error against the float model.
 */
public final class Quantization {
    public static final String METADATA_KEY = "acdc.quantized";
    /** Images the per-layer error is measured on (the first of the calibration sample). */
    public static final int ERROR_IMAGES = 64;
    public static final double DEFAULT_PERCENTILE = 99.999;

    /**
     * What to do: the mode, the static mode's range method and percentile, the nodes to keep float,
     * the granularity of the ACDC coefficients' scales, and whether to give the internal values short names
     * ({@link CompactNames}; the model's inputs and outputs keep theirs) and leave out the attributes that
     * restate their operator's default ({@link dev.acdc.passes.DropDefaultAttributes}), and whether to store
     * repeated node chains once as model-local functions ({@link Model#setLocalFunctions}); equal constants
     * are always stored once.
     */
    public record Request(Quantizer.Mode mode, RangeStatistics.Method method, double percentile, Pattern exclude,
                          Quantizer.CoefficientScales coefficientScales, boolean compactNames, boolean localFunctions) {
        public Request {
            if (!(percentile > 50 && percentile <= 100)) { // at most 50 would clip away more than half the values
                throw new AcdcException("--percentile must be above 50 and at most 100, got " + percentile);
            }
            java.util.Objects.requireNonNull(coefficientScales, "coefficientScales");
        }

        /** Row scales; short names and local functions, as {@link dev.acdc.decompose.FileEncoding#DEFAULT}. */
        public Request(Quantizer.Mode mode, RangeStatistics.Method method, double percentile, Pattern exclude) {
            this(mode, method, percentile, exclude, Quantizer.CoefficientScales.ROW, FileEncoding.DEFAULT.compactNames(),
                    FileEncoding.DEFAULT.localFunctions());
        }

        /**
         * Whether a weight's many scales are stored in one byte each: their decoding chain (four nodes) costs
         * less than the byte it saves a scale where names are short or local functions store the chain once;
         * in a file with the exporter's names and no functions it costs more (ResNet-20 int8: +10 KB), and
         * half precision is used.
         */
        public boolean byteScales() {
            return compactNames || localFunctions;
        }

        public static Request weightsOnly() {
            return new Request(Quantizer.Mode.WEIGHTS, RangeStatistics.Method.MINMAX, DEFAULT_PERCENTILE, null);
        }
    }

    /** The quantized model, what the rewrite did, the per-layer errors, and the report section. */
    public record Outcome(Model model, Quantizer.Result result, List<QuantizationCalibration.LayerError> layerErrors,
                          QuantizationSection section) {
    }

    private Quantization() {
    }

    /**
     * Quantizes {@code floatModel} (not changed). {@code images}: the calibration sample, needed by the
     * static mode; used by both for the per-layer error when given.
     */
    public static Outcome run(Model floatModel, Request req, CalibrationImages images, Consumer<String> progress) {
        if (req.mode() == Quantizer.Mode.STATIC && images == null) {
            throw new AcdcException("--quantize int8 needs calibration images: give --calibration-data SPEC");
        }
        Model prepared = Quantizer.prepare(floatModel);
        Model work = OnnxModels.fromBytes(OnnxModels.toBytes(prepared), null);
        Quantizer.Result r;
        String activations = null;
        List<QuantizationSection.Range> rs = null;
        if (req.mode() == Quantizer.Mode.STATIC) {
            List<String> tensors = Quantizer.tensorsToCalibrate(work, req.exclude());
            Map<String, RangeStatistics> stats = QuantizationCalibration.statistics(work, tensors, images,
                    req.method() != RangeStatistics.Method.MINMAX, progress);
            Map<String, double[]> ranges = new LinkedHashMap<>();
            stats.forEach((t, s) -> ranges.put(t, s.range(req.method(), req.percentile())));
            Map<String, float[]> kernels = QuantizationCalibration.constants(work,
                    Quantizer.computedKernels(work, req.exclude()));
            progress.accept("int8: inserting QuantizeLinear/DequantizeLinear on " + tensors.size() + " activations");
            r = Quantizer.staticQdq(work, ranges, kernels, req.exclude(), req.coefficientScales(), req.byteScales());
            activations = "uint8, per tensor, asymmetric; ranges by " + req.method().id()
                    + (req.method() == RangeStatistics.Method.PERCENTILE ? " " + req.percentile() : "");
            rs = new ArrayList<>();
            for (String t : tensors) {
                RangeStatistics s = stats.get(t);
                double[] c = ranges.get(t);
                rs.add(new QuantizationSection.Range(t, s.min(), s.max(), c[0], c[1]));
            }
        } else {
            r = Quantizer.weightsOnly(work, req.exclude(), req.coefficientScales(), req.byteScales());
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("mode", req.mode().id());
        if (req.mode() == Quantizer.Mode.STATIC) {
            meta.put("method", req.method().id());
            meta.put("calibration", images.subset().describe() + " of " + images.source() + ", seed " + images.seed());
        }
        meta.put("coefficientScales", req.coefficientScales().id());
        meta.put("quantizedNodes", r.quantized().size());
        meta.put("keptFloat", r.keptFloat().size());
        work.metadata().put(METADATA_KEY, Json.compact(meta));
        if (!work.metadata().containsKey("acdc.source_producer")) {
            work.metadata().put("acdc.source_producer", (work.producerName() + " " + work.producerVersion()).trim());
        }
        String version = Quantization.class.getPackage().getImplementationVersion();
        work.setProducer("acdc", version == null ? "dev" : version);
        List<QuantizationCalibration.LayerError> errors = List.of();
        List<QuantizationSection.LayerError> le = null;
        if (images != null) {
            progress.accept("int8: measuring each layer's output error on " + Math.min(ERROR_IMAGES, images.count())
                    + " calibration images");
            errors = QuantizationCalibration.layerErrors(prepared, work, r.layers(), images, ERROR_IMAGES);
            le = new ArrayList<>();
            for (QuantizationCalibration.LayerError e : errors) {
                le.add(new QuantizationSection.LayerError(e.layer(), e.value(), e.relativeError(), e.sqnrDb()));
            }
        }
        // after the per-layer errors, which read the values by their names
        new PassManager(List.of(new dev.acdc.passes.CollapseReshapes(), new ShareEqualConstants())).run(work);
        new FileEncoding(req.compactNames(), false).apply(work);
        long plain = OnnxModels.toBytes(work).length;
        work.setLocalFunctions(true);
        long outlined = OnnxModels.toBytes(work).length;
        work.setLocalFunctions(req.localFunctions());
        if (req.localFunctions()) {
            r.notes().add(String.format(java.util.Locale.ROOT, "repeated node chains are stored once, as ONNX "
                    + "model-local functions: %,d bytes saved (%.1f %%); the file needs a runtime that reads them "
                    + "(IR version 8; ONNX Runtime inlines them at load)", plain - outlined,
                    100.0 * (plain - outlined) / plain));
        } else if (plain - outlined > 0.05 * plain) {
            r.notes().add(String.format(java.util.Locale.ROOT, "local functions (the default) would store the repeated node "
                    + "chains once: %,d bytes (%.0f %%) smaller", plain - outlined, 100.0 * (plain - outlined) / plain));
        }
        Long namesBytes = null;
        if (!req.compactNames()) {
            long named = OnnxModels.toBytes(work).length;
            Model shortNamed = OnnxModels.fromBytes(OnnxModels.toBytes(work), null);
            new PassManager(List.of(new CompactNames(Set.of(WeightRoles.KEY)))).run(shortNamed);
            long saved = named - OnnxModels.toBytes(shortNamed).length;
            namesBytes = saved;
            if (saved > 0.1 * named) {
                r.notes().add(String.format(java.util.Locale.ROOT, "the names of values and nodes take %,d of the "
                        + "%,d bytes (%.0f %%); without --keep-names they get short names", saved, named, 100.0 * saved / named));
            }
        }
        QuantizationSection section = new QuantizationSection(req.mode().id(), activations,
                images != null && req.mode() == Quantizer.Mode.STATIC ? images.sample() : null, rs,
                "int8, symmetric, per output channel (ACDC atoms per row, coefficients per "
                        + req.coefficientScales().id() + ")", req.exclude() == null ? null : req.exclude().pattern(),
                r.quantized(), r.keptFloat(), r.notes(), le, le == null ? null : Math.min(ERROR_IMAGES, images.count()),
                req.compactNames(), namesBytes, null);
        return new Outcome(work, r, errors, section);
    }
}
