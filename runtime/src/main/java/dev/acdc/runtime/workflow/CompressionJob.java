package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.ExportForm;
import dev.acdc.decompose.Settings;
import dev.acdc.decompose.FileEncoding;
import dev.acdc.quantize.Quantizer;
import dev.acdc.report.CompressReport;
import dev.acdc.report.ReportSchema;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;
import dev.acdc.runtime.calibration.DropTarget;
import dev.acdc.runtime.calibration.OutputFitter;
import dev.acdc.runtime.calibration.Sensitivity;
import dev.acdc.runtime.quantize.Quantization;
import dev.acdc.runtime.recovery.BlockRecovery;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The whole compression, as {@code acdc-compress} runs it: load, (calibration sample, atom budget, output
 * fit), decompose and export, (fine-tune, int8), verify the output in ONNX Runtime against the original
 * on a probe batch, (validate on data), and write the model with its JSON, Markdown and HTML reports —
 * staged, so that all take their names together or none does, never over the input.
 */
public final class CompressionJob {
    private CompressionJob() {
    }

    /** How the factors are fitted: truncated SVD of the weights, or to the original's outputs on calibration images. */
    public enum Fit {
        SVD, OUTPUT;

        public static Fit parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "svd" -> SVD;
                case "output" -> OUTPUT;
                default -> throw new AcdcException("--fit must be svd or output, got '" + s + "'");
            };
        }
    }

    /**
     * Calibration images: a seeded sample of {@code images} of {@code data} (stratified where labelled),
     * used by the output fit, the atom budget and static int8; {@code iterations} and {@code matchSum} steer
     * the output fit (its ALS iterations per set; whether a conv feeding a residual Add matches the sum);
     * {@code sensitivityImages} (0: none) is the size of the sample, same data and seed, on which the
     * report's per-set {@link Sensitivity sensitivity} is measured.
     */
    public record Calibration(Dataset data, Preprocessing pre, int images, long seed, int iterations, boolean matchSum,
                              int sensitivityImages) {
        /** The report's sensitivity sample by default: enough to rank sets, cheap next to the fit. */
        public static final int SENSITIVITY_IMAGES = 128;
        /** {@code sensitivityImages}: chosen by the model's cost ({@link #sensitivitySample}). */
        public static final int AUTO = -1;
        /**
         * The multiply-adds the default sweep may spend: 6 compressions a conv, each run on its images. ResNet-20 and
         * -56 at 32×32 (6e11, 5e12) keep 128 images; an ImageNet ResNet-18 at 224 gets 46; ResNet-50 none.
         */
        public static final double SENSITIVITY_BUDGET_MACS = 1e13;
        /** Fewer images than this rank nothing: the default sweep is skipped instead. */
        public static final int SENSITIVITY_MIN_IMAGES = 16;

        /**
         * The sensitivity sample's size for a network of {@code macs} multiply-adds an image and {@code convs}
         * convolutions: the requested size, or for {@link #AUTO} {@value #SENSITIVITY_IMAGES} images capped so the
         * sweep stays within {@link #SENSITIVITY_BUDGET_MACS} (0, skipped, below {@value #SENSITIVITY_MIN_IMAGES}).
         * It depends on the model alone, so a recipe reruns the same sweep on any machine.
         */
        public int sensitivitySample(long macs, int convs) {
            if (sensitivityImages != AUTO) {
                return sensitivityImages;
            }
            double per = 6.0 * Math.max(1, convs) * Math.max(1, macs);
            int n = (int) Math.min(SENSITIVITY_IMAGES, Math.floor(SENSITIVITY_BUDGET_MACS / per));
            return n < SENSITIVITY_MIN_IMAGES ? 0 : n;
        }

        public Calibration {
            if (data == null || pre == null) {
                throw new IllegalArgumentException("calibration data and preprocessing are required");
            }
            check(images, iterations);
            checkSensitivity(sensitivityImages);
        }

        /** The sensitivity sample's size: 0 (none) or more. */
        public static void checkSensitivity(int sensitivityImages) {
            if (sensitivityImages < 0 && sensitivityImages != AUTO) {
                throw new AcdcException("--sensitivity-images must be 0 (none) or more, got " + sensitivityImages);
            }
        }

        /** Without the report's sensitivity table (for a caller that only quantizes). */
        public Calibration(Dataset data, Preprocessing pre, int images, long seed, int iterations, boolean matchSum) {
            this(data, pre, images, seed, iterations, matchSum, 0);
        }

        /** The ranges of the sample size and the ALS iterations, for a caller to check before it opens data. */
        public static void check(int images, int iterations) {
            if (images < 1) {
                throw new AcdcException("--calibration-images must be at least 1, got " + images);
            }
            if (iterations < 0 || iterations > 10000) {
                throw new AcdcException("--fit-iterations must be between 0 and 10000, got " + iterations);
            }
        }

        /** 512 images (seed 1), the default ALS iterations, residual sums matched, the sensitivity on 128. */
        public static Calibration of(Dataset data, Preprocessing pre) {
            return new Calibration(data, pre, 512, 1, OutputFitter.ITERATIONS, true, SENSITIVITY_IMAGES);
        }
    }

    /** Data the written model is validated on, side by side with the original. */
    public record Evaluation(Dataset data, Preprocessing pre, Validator.Options options) {
        /** Batches of 100 on the CPU, labels used where there are any (the command's defaults). */
        public static Evaluation of(Dataset data, Preprocessing pre) {
            return new Evaluation(data, pre, new Validator.Options(100, Sessions.Config.cpu(), false));
        }
    }

    /**
     * One compression. {@code calibration}, {@code targetSize} (output bytes at most this fraction of the
     * input's), {@code fineTune}, {@code quantize} and {@code evaluation} may be null (not done);
     * {@code filterNorm} (0: off) scales every conv's filters before the fit when a fine-tune with
     * training-mode BatchNormalization follows; {@code inputShape} null: the declared one;
     * {@code targetDrop} (null: none) searches the smallest size target whose predicted top-1 drop on the
     * calibration images is at most that many points ({@link DropTarget}); {@code strict} refuses to write
     * an output that is not smaller than the input.
     */
    public record Request(Path model, Settings settings, Fit fit, Calibration calibration, Double targetSize,
                          double filterNorm, FineTuneJob.Settings fineTune, Quantization.Request quantize,
                          Evaluation evaluation, long[] inputShape, OutputFiles.Outputs outputs,
                          ReportSchema.Provenance provenance, FileEncoding encoding, Double targetDrop,
                          boolean strict, BlockRecovery.Options recovery) {
        /** Without a drop target, not strict. */
        public Request(Path model, Settings settings, Fit fit, Calibration calibration, Double targetSize,
                       double filterNorm, FineTuneJob.Settings fineTune, Quantization.Request quantize,
                       Evaluation evaluation, long[] inputShape, OutputFiles.Outputs outputs,
                       ReportSchema.Provenance provenance, FileEncoding encoding) {
            this(model, settings, fit, calibration, targetSize, filterNorm, fineTune, quantize, evaluation, inputShape,
                    outputs, provenance, encoding, null, false, null);
        }

        public Request {
            if (model == null || settings == null || fit == null || outputs == null) {
                throw new IllegalArgumentException("model, settings, fit and outputs are required");
            }
            if (encoding == null) {
                // with int8 the quantize request carries the encoding
                encoding = quantize != null ? FileEncoding.PLAIN : FileEncoding.DEFAULT;
            }
            if (quantize != null && encoding.any()) {
                throw new IllegalArgumentException("with int8 the encoding is the quantize request's");
            }
            if (provenance == null) {
                provenance = ReportSchema.Provenance.of("Java API (CompressionJob)", null);
            }
            check(settings, fit, calibration != null, targetSize, quantize == null ? null : quantize.mode(),
                    fineTune != null);
            checkTargetDrop(targetDrop, targetSize, calibration != null);
        }

        /** A drop target is 0 to 100 points, needs calibration images and excludes a size target. */
        public static void checkTargetDrop(Double targetDrop, Double targetSize, boolean calibration) {
            if (targetDrop == null) {
                return;
            }
            if (!(targetDrop >= 0 && targetDrop <= 100)) {
                throw new AcdcException("--target-drop must be between 0 and 100 points, got " + targetDrop);
            }
            if (targetSize != null) {
                throw new AcdcException("--target-drop and --target-size both choose the size: give one of them");
            }
            if (!calibration) {
                throw new AcdcException("--target-drop needs calibration images to predict the drop on: give "
                        + "--calibration-data SPEC (or --train-data)");
            }
        }

        /**
         * The rules a request must meet, for a caller to check before it opens any data: the output fit,
         * an atom budget and static int8 need calibration images; a fine-tune needs the reconstruct form.
         */
        public static void check(Settings settings, Fit fit, boolean calibration, Double targetSize,
                                 Quantizer.Mode quantize, boolean fineTune) {
            if (fit == Fit.OUTPUT && !calibration) {
                throw new AcdcException("--fit output needs calibration images: give --calibration-data SPEC (or --train-data)");
            }
            if (targetSize != null && !(targetSize > 0 && targetSize <= 1)) {
                throw new AcdcException("--target-size must be a fraction of the input's bytes in (0, 1], got " + targetSize);
            }
            if (targetSize != null && !calibration) {
                throw new AcdcException("--target-size needs calibration images for its sensitivity analysis: give "
                        + "--calibration-data SPEC (or --train-data)");
            }
            if (targetSize != null && !settings.setAtoms().isEmpty()) {
                throw new AcdcException("--set-atoms and --target-size both choose the atoms per set: give one of them");
            }
            if (quantize == Quantizer.Mode.STATIC && !calibration) {
                throw new AcdcException("--quantize int8 needs calibration images for the activation ranges: give "
                        + "--calibration-data SPEC (or --train-data)");
            }
            if (fineTune && settings.form() != ExportForm.RECONSTRUCT) {
                throw new AcdcException("--train-data needs --form reconstruct (fine-tune, then re-export factorized)");
            }
        }

        /**
         * The simplest request: {@code settings} fitted by SVD, written to {@code output} (null:
         * {@code MODEL.acdc.onnx}) with its reports beside it, checked against the model it reads.
         */
        public static Request of(Path model, Settings settings, Path output) {
            OutputGuard guard = new OutputGuard().reads(model);
            return new Request(model, settings, Fit.SVD, null, null, 0, null, null, null, null,
                    OutputFiles.Outputs.of(guard, output != null ? output : OutputFiles.compressedName(model), null),
                    null, null);
        }

        public Request withCalibration(Calibration c) {
            return new Request(model, settings, c == null ? Fit.SVD : Fit.OUTPUT, c, targetSize, filterNorm, fineTune,
                    quantize, evaluation, inputShape, outputs, provenance, encoding, targetDrop, strict, recovery);
        }

        /** Fine-tunes after the fit, filters scaled to norm 1 first (the command's default). */
        public Request withFineTune(FineTuneJob.Settings f) {
            return new Request(model, settings, fit, calibration, targetSize, f == null ? 0 : 1, f, quantize, evaluation,
                    inputShape, outputs, provenance, encoding, targetDrop, strict, recovery);
        }

        public Request withEvaluation(Evaluation e) {
            return new Request(model, settings, fit, calibration, targetSize, filterNorm, fineTune, quantize, e,
                    inputShape, outputs, provenance, encoding, targetDrop, strict, recovery);
        }

        /** Writes the float model with {@code e}'s names and functions (with int8, the quantize request's apply). */
        public Request withEncoding(FileEncoding e) {
            return new Request(model, settings, fit, calibration, targetSize, filterNorm, fineTune, quantize, evaluation,
                    inputShape, outputs, provenance, e, targetDrop, strict, recovery);
        }

        /** Searches the smallest size whose predicted drop is at most {@code points} (null: none). */
        public Request withTargetDrop(Double points) {
            return new Request(model, settings, fit, calibration, targetSize, filterNorm, fineTune, quantize, evaluation,
                    inputShape, outputs, provenance, encoding, points, strict, recovery);
        }

        /** Runs block recovery between the fit and the fine-tune with {@code o} (null: none). */
        public Request withRecovery(BlockRecovery.Options o) {
            return new Request(model, settings, fit, calibration, targetSize, filterNorm, fineTune, quantize, evaluation,
                    inputShape, outputs, provenance, encoding, targetDrop, strict, o);
        }

        /** Refuses (exit 1, nothing written) an output that is not smaller than the input. */
        public Request withStrict(boolean s) {
            return new Request(model, settings, fit, calibration, targetSize, filterNorm, fineTune, quantize, evaluation,
                    inputShape, outputs, provenance, encoding, targetDrop, s, recovery);
        }
    }

    /**
     * What was written: the report (the JSON file is its record, {@link ReportSchema#json}), the model's
     * bytes (and the float model's, before int8), the probe, the validation (null without evaluation data),
     * the int8 outcome (null without it), the one-line verdict and its warnings.
     */
    public record Outcome(CompressReport report, byte[] bytes, int floatBytes, long[] probeShape,
                          Probe.Comparison probe, ValidationResult validation, ValidationResult floatValidation,
                          Quantization.Outcome quantized, Verdict verdict, OutputFiles.Outputs outputs) {
    }

    /**
     * The stages of a compression, in order; each reads what the ones before it left in the run
     * ({@link CompressionRun}) and a request goes through those that apply to it.
     */
    static final List<CompressionStage> STAGES = List.of(new LoadStage(), new PlanStage(), new FitStage(),
            new RecoveryStage(), new FineTuneStage(), new EncodeStage(), new VerifyStage(), new ValidateStage(),
            new WriteStage());

    /** Runs {@code r}; the caller opened (and closes) its data sets. */
    public static Outcome run(Request r, JobListener listener) {
        r.outputs().checkAgainst(r.model()); // never over the input, whoever built the request
        CompressionRun run = new CompressionRun(r, listener);
        for (CompressionStage stage : STAGES) {
            if (stage.applies(run)) {
                stage.run(run);
            }
        }
        return run.outcome;
    }

    static void requireSmaller(long bytes, long input, String what) {
        if (bytes >= input) {
            throw new AcdcException(AcdcException.CHECK_FAILED, String.format(Locale.ROOT, "--strict: %s (%,d bytes) "
                    + "is not smaller than the input (%,d bytes): the factors hold more numbers than the dense kernels; "
                    + "use fewer --atoms, a wider --share or --target-size F; nothing written", what, bytes, input), null);
        }
    }

    /**
     * When every kernel is reproduced exactly (an SVD fit of full rank, relative error under 1e-6, nothing
     * trained), the written model must give the original's outputs: a probe that disagrees means the
     * export is wrong (e.g. it decomposed a copy of a weight ONNX Runtime does not use), and nothing is
     * written.
     */
    public static void requireExactWhereItShouldBe(Compressor.Result r, boolean weightsOnly, Probe.Comparison probe) {
        requireExactWhereItShouldBe(r, weightsOnly, probe, false);
    }

    /**
     * As above; a {@code float16} model (written back in float16) computes in half precision, whose rounding
     * (2^-10 relative per operation) grows over the layers: its tolerance is 1.6e-2 of the output scale.
     */
    public static void requireExactWhereItShouldBe(Compressor.Result r, boolean weightsOnly, Probe.Comparison probe,
                                                   boolean float16) {
        if (!weightsOnly || r.plan().decomposed().isEmpty()) {
            return;
        }
        for (ConvPlan cp : r.plan().decomposed()) {
            if (!(r.decomposition().relError(cp) < 1e-6)) {
                return;
            }
        }
        double tolerance = (float16 ? 1.6e-2 : 1e-3) * Math.max(1, probe.outputScale());
        if (!(probe.maxAbsDiff() <= tolerance)) {
            throw new AcdcException(String.format(Locale.ROOT, "every kernel is reproduced exactly "
                    + "(relative error < 1e-6), yet ONNX Runtime's outputs on the probe differ by %.3g (tolerance %.3g): "
                    + "the export does not compute the original; nothing written", probe.maxAbsDiff(), tolerance));
        }
    }
}
