package dev.acdc.runtime.workflow;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.decompose.Compressor;
import dev.acdc.decompose.ConvPlan;
import dev.acdc.decompose.ExportForm;
import dev.acdc.decompose.Settings;
import dev.acdc.quantize.Quantizer;
import dev.acdc.report.CompressReport;
import dev.acdc.report.ReportSchema;
import dev.acdc.runtime.Probe;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.ValidationResult;
import dev.acdc.runtime.Validator;
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

    /**
     * The load stage's options: {@code inputShape}, the input shape for MAC counts and the probe (null: the
     * declared one; a symbolic batch is 1, an open H or W 224).
     */
    public record LoadOptions(long[] inputShape) {
        public static final LoadOptions DECLARED = new LoadOptions(null);
    }

    /**
     * Calibration images: a seeded sample of {@code images} of {@code data} (stratified where labelled), used by
     * the output fit, the size plan, the sensitivity sweep, block recovery and static int8.
     */
    public record Calibration(Dataset data, Preprocessing pre, int images, long seed) {
        public Calibration {
            if (data == null || pre == null) {
                throw new IllegalArgumentException("calibration data and preprocessing are required");
            }
            checkImages(images);
        }

        /** The sample's size, for a command to check before it opens any data (the record checks it too). */
        public static void checkImages(int images) {
            if (images < 1) {
                throw new AcdcException("--calibration-images must be at least 1, got " + images);
            }
        }

        /** The sample's size and seed by default. */
        public static final int IMAGES = 512;
        public static final long SEED = 1;

        /** {@value #IMAGES} images, seed {@value #SEED} (the command's defaults). */
        public static Calibration of(Dataset data, Preprocessing pre) {
            return new Calibration(data, pre, IMAGES, SEED);
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
     * One compression: the {@code model} to read and each stage's options, in the order the stages run
     * ({@link #stages}). {@code calibration} (the images the plan, the output fit, recovery and static int8
     * use), {@code recovery}, {@code fineTune} and {@code evaluation} may be null: not done. Each record checks
     * its own values; the request checks what one stage needs of another.
     */
    public record Request(Path model, LoadOptions load, Calibration calibration, PlanOptions plan, FitOptions fit,
                          BlockRecovery.Options recovery, FineTuneJob.Settings fineTune, EncodeOptions encode,
                          Evaluation evaluation, OutputOptions output) {
        public Request {
            if (model == null || plan == null || fit == null || output == null) {
                throw new IllegalArgumentException("model, plan, fit and output are required");
            }
            load = load == null ? LoadOptions.DECLARED : load;
            encode = encode == null ? EncodeOptions.DEFAULT : encode;
            if (output.provenance() == null) {
                output = new OutputOptions(output.files(), ReportSchema.Provenance.of("Java API (CompressionJob)", null),
                        output.strict());
            }
            check(plan, fit, calibration != null, encode, fineTune != null, recovery != null);
        }

        /**
         * What one stage's options need of another's, for a caller to check before it opens any data: the
         * output fit, a size or drop target, block recovery and static int8 need calibration images; a
         * fine-tune needs the reconstruct form.
         */
        public static void check(PlanOptions plan, FitOptions fit, boolean calibration, EncodeOptions encode,
                                 boolean fineTune, boolean recovery) {
            String give = ": give --calibration-data SPEC (or --train-data)";
            if (fit.mode() == FitOptions.Mode.OUTPUT && !calibration) {
                throw new AcdcException("--fit output needs calibration images" + give);
            }
            if (plan.targetSize() != null && !calibration) {
                throw new AcdcException("--target-size needs calibration images for its sensitivity analysis" + give);
            }
            if (plan.targetDrop() != null && !calibration) {
                throw new AcdcException("--target-drop needs calibration images to predict the drop on" + give);
            }
            if (recovery && !calibration) {
                throw new AcdcException("--recovery needs calibration images" + give);
            }
            if (encode != null && encode.quantize() != null && encode.quantize().mode() == Quantizer.Mode.STATIC
                    && !calibration) {
                throw new AcdcException("--quantize int8 needs calibration images for the activation ranges" + give);
            }
            if (plan.searches() && !MethodStages.has(plan.settings().method(), SizeTargetStage.class)) {
                throw new AcdcException("--target-" + (plan.targetSize() != null ? "size" : "drop") + " allocates the "
                        + "atoms of ACDC's sharing sets; --method " + plan.settings().method() + " has no size plan");
            }
            if (fineTune && plan.settings().form() != ExportForm.RECONSTRUCT) {
                throw new AcdcException("--train-data needs --form reconstruct (fine-tune, then re-export factorized)");
            }
        }

        /**
         * The simplest request: {@code settings} fitted by SVD, written to {@code output} (null:
         * {@code MODEL.acdc.onnx}) with its reports beside it, checked against the model it reads.
         */
        public static Request of(Path model, Settings settings, Path output) {
            OutputGuard guard = new OutputGuard().reads(model);
            return new Request(model, null, null, PlanOptions.of(settings), FitOptions.of(FitOptions.Mode.SVD), null,
                    null, null, null, OutputOptions.of(OutputFiles.Outputs.of(guard,
                    output != null ? output : OutputFiles.compressedName(model), null)));
        }

        /** A builder holding this request's options, to change some. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** With calibration images, fitted to the original's outputs on them (null: none, fitted by SVD). */
        public Request withCalibration(Calibration c) {
            return toBuilder().calibration(c).fit(fit.withMode(c == null ? FitOptions.Mode.SVD : FitOptions.Mode.OUTPUT))
                    .build();
        }

        /** Fine-tunes after the fit (null: none). */
        public Request withFineTune(FineTuneJob.Settings f) {
            return toBuilder().fineTune(f).build();
        }

        public Request withEvaluation(Evaluation e) {
            return toBuilder().evaluation(e).build();
        }

        /** Runs block recovery between the fit and the fine-tune with {@code o} (null: none). */
        public Request withRecovery(BlockRecovery.Options o) {
            return toBuilder().recovery(o).build();
        }

        public Request withPlan(PlanOptions p) {
            return toBuilder().plan(p).build();
        }
    }

    /** Builds a {@link Request} one stage's options at a time; each starts as {@link Request#of} has it. */
    public static final class Builder {
        private Path model;
        private LoadOptions load;
        private Calibration calibration;
        private PlanOptions plan;
        private FitOptions fit;
        private BlockRecovery.Options recovery;
        private FineTuneJob.Settings fineTune;
        private EncodeOptions encode;
        private Evaluation evaluation;
        private OutputOptions output;

        private Builder(Request r) {
            model = r.model();
            load = r.load();
            calibration = r.calibration();
            plan = r.plan();
            fit = r.fit();
            recovery = r.recovery();
            fineTune = r.fineTune();
            encode = r.encode();
            evaluation = r.evaluation();
            output = r.output();
        }

        public Builder load(LoadOptions o) {
            load = o;
            return this;
        }

        public Builder calibration(Calibration c) {
            calibration = c;
            return this;
        }

        public Builder plan(PlanOptions o) {
            plan = o;
            return this;
        }

        public Builder fit(FitOptions o) {
            fit = o;
            return this;
        }

        public Builder recovery(BlockRecovery.Options o) {
            recovery = o;
            return this;
        }

        public Builder fineTune(FineTuneJob.Settings o) {
            fineTune = o;
            return this;
        }

        public Builder encode(EncodeOptions o) {
            encode = o;
            return this;
        }

        public Builder evaluation(Evaluation e) {
            evaluation = e;
            return this;
        }

        public Builder output(OutputOptions o) {
            output = o;
            return this;
        }

        /** The request, checked. */
        public Request build() {
            return new Request(model, load, calibration, plan, fit, recovery, fineTune, encode, evaluation, output);
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
     * The stages of a compression by decomposition method {@code method}, in order: the job's own, with the
     * method's ({@link MethodStages}) after the calibration sample. Each reads what the ones before it left in the
     * run ({@link CompressionRun}) and a request goes through those that apply to it.
     */
    static List<CompressionStage> stages(String method) {
        List<CompressionStage> s = new java.util.ArrayList<>(List.of(new LoadStage(), new CalibrationStage()));
        s.addAll(MethodStages.of(method));
        s.addAll(List.of(new FitStage(), new RecoveryStage(), new FineTuneStage(), new EncodeStage(), new VerifyStage(),
                new ValidateStage(), new WriteStage()));
        return s;
    }

    /** Runs {@code r}; the caller opened (and closes) its data sets. */
    public static Outcome run(Request r, JobListener listener) {
        r.output().files().checkAgainst(r.model()); // never over the input, whoever built the request
        CompressionRun run = new CompressionRun(r, listener);
        for (CompressionStage stage : stages(r.plan().settings().method())) {
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
