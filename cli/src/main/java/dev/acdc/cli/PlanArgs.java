package dev.acdc.cli;

import dev.acdc.decompose.Settings;
import dev.acdc.runtime.workflow.PlanOptions;

import picocli.CommandLine.Option;

/**
 * The plan stage's options of {@code compress} (heading "Decomposition plan"), bound into {@link PlanOptions}.
 */
@Setting(stage = Setting.Stage.PLAN)
final class PlanArgs {
    @Option(names = "--method", paramLabel = "ID", completionCandidates = Methods.class,
            description = "Decomposition method (registered: ${COMPLETION-CANDIDATES}; default ${DEFAULT-VALUE}: "
                    + "atoms per conv, coefficients shared across a sharing set). Others are added by a jar on the "
                    + "class path that registers a dev.acdc.decompose.DecompositionMethod (docs/api.md).")
    String method = Settings.defaults().method();

    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--share", paramLabel = "SCOPE",
            description = "Which blocks share one coefficient tensor: layer (one conv), block (one residual block), "
                    + "stage (blocks of equal width and resolution) or net. Default: ${DEFAULT-VALUE}.")
    String share = Settings.defaults().share().id();

    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--atoms", paramLabel = "M", defaultValue = "auto",
            description = "Atoms per block of a spatial kernel (default auto: 6 for 3x3, 14 for 5x5, 38 for 7x7, "
                    + "ceil(2/3*kh*kw) otherwise; capped by each set's rank; 1x1 convs follow --pointwise). kh*kw with one block per conv (--group of the "
                    + "widest conv) reproduces the weights exactly.")
    String atoms;

    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--pointwise", paramLabel = "F|dense|full",
            description = "1x1 convs are factored into a rank-r product whose input side the convs of a sharing set "
                    + "that read the same width share; r keeps about F of their weights (default ${DEFAULT-VALUE}; "
                    + "--set-atoms sets a set's rank by hand). dense keeps every 1x1 conv as it is; full factors each at "
                    + "its full rank, which reproduces it exactly.")
    String pointwise = Double.toString(Settings.DEFAULT_POINTWISE);

    @Option(names = "--set-atoms", paramLabel = "SET=M[,SET=M...]",
            description = "Per sharing set (by the id the plan and the report's sets[] give it), M atoms or dense "
                    + "instead of --atoms; sets not named follow --atoms. A --target-size plan prints its allocation in "
                    + "this form, so it can be rerun (with the same --share) or edited by hand. Excludes --target-size and "
                    + "--target-drop.")
    String setAtoms;

    @Option(names = "--group", paramLabel = "auto|N", defaultValue = "auto",
            description = "Channel-group size of a block (default auto: the largest power of two <= 64 dividing "
                    + "every conv width of 8 or more).")
    String group;

    @Option(names = "--form", paramLabel = "FORM",
            description = "reconstruct (kernel rebuilt from the factors, folded by the runtime at load: same speed) "
                    + "or factorized (atom conv + 1x1 coefficient conv: fewer MACs when m/g + m/(kh*kw) < 1). "
                    + "Default: ${DEFAULT-VALUE}.")
    String form = Settings.defaults().form().id();

    @Option(names = "--exclude", paramLabel = "REGEX", description = "Keep convolutions whose name matches dense.")
    String exclude;

    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--target-size", paramLabel = "F",
            description = "Allocate atoms per sharing set (or keep a set dense) so that the output has at most F times "
                    + "the input's bytes (within 2 %% below), minimising the summed SVD error of the convolutions (each "
                    + "relative to its kernel); that allocation, the same with no set below the uniform count or one "
                    + "step below it, the same with each conv's error weighted by its size (more atoms to wide convs), "
                    + "and the largest uniform --atoms that fits are compressed with the run's fit and "
                    + "compared on the calibration images, and the one that agrees with the original most often is "
                    + "kept; the plan says whether its lead over the next best is larger than the noise of that many "
                    + "images. The size counts what a fine-tune adds. Needs --calibration-data or --train-data. --atoms "
                    + "is then ignored; the plan is printed and in the report.")
    Double targetSize;

    @Setting(level = Setting.Level.BASIC)
    @Option(names = "--target-drop", paramLabel = "PTS",
            description = "Search the smallest --target-size (fractions 0.02 to 0.8 of the input's bytes, by bisection, "
                    + "up to 8 sizes, each a whole --target-size plan) whose kept allocation's predicted top-1 drop on the "
                    + "calibration images, with the run's fit and before any fine-tune, is at most PTS points: the "
                    + "original's top-1 there less the candidate's when the images are labelled, else the share of "
                    + "images on which the two disagree (a bound). If even 0.8 misses it, exit 1 and nothing is "
                    + "written. With labelled --eval-data the written model is then validated and, as --max-drop PTS "
                    + "does (unless --max-drop is given), exit 1 when its measured drop is larger (the model is "
                    + "written). Needs --calibration-data or --train-data; excludes --target-size.")
    Double targetDrop;

    @Option(names = "--sensitivity-images", paramLabel = "auto|N", defaultValue = "auto",
            description = "With calibration data, the report's per-set sensitivity table and chart (each set alone "
                    + "compressed at 1, 2, 3, 4, 6, 9 atoms, SVD fit: KL and top-1 agreement with the original) is "
                    + "measured on a seeded, stratified sample of this many calibration images; 0 skips it (a "
                    + "compression and an ONNX Runtime pass per point). Default auto: "
                    + PlanOptions.SENSITIVITY_IMAGES + " images where the sweep costs at most 1e13 "
                    + "multiply-adds (the CIFAR ResNets), fewer on a larger model, none where fewer than "
                    + PlanOptions.SENSITIVITY_MIN_IMAGES + " would fit (ImageNet ResNet-50); "
                    + "the run says which.")
    String sensitivityImagesOption;

    /** The registered decomposition methods, for --help. */
    static final class Methods implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return dev.acdc.decompose.DecompositionMethods.ids().iterator();
        }
    }

    /** The plan's options, checked; {@code allowNonfinite} is the load stage's. */
    PlanOptions options(boolean allowNonfinite) {
        Settings settings = Settings.of(share, atoms, group, form, exclude).allowingNonfinite(allowNonfinite)
                .withMethod(method).withPointwise(Settings.parsePointwise(pointwise));
        if (setAtoms != null) {
            settings = settings.withSetAtoms(Settings.parseSetAtoms(setAtoms));
        }
        int sensitivityImages = sensitivityImagesOption.trim().equalsIgnoreCase("auto")
                ? PlanOptions.AUTO : Options.count("--sensitivity-images", sensitivityImagesOption);
        return new PlanOptions(settings, targetSize, targetDrop, sensitivityImages);
    }
}
