package dev.acdc.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Where an option belongs: the stage of the job it sets (its recipe key is {@code stage.name}, e.g.
 * {@code finetune.lr}) and how prominent it is. On an options class it is the default of that class's
 * fields; a field's own annotation wins. Read by {@link Recipe} (keys, --set, --recipe, the report's
 * recipe) and {@link StagedHelp} (--help grouped by stage, --help-all).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.TYPE})
@interface Setting {
    /** The stage; on a field left out: its class's (else general). */
    Stage stage() default Stage.OF_CLASS;

    Level level() default Level.ADVANCED;

    /**
     * The name in the option's key where the option's own would repeat the stage: {@code --data} of stage
     * data is {@code data.spec}; left empty, such an option's key ends in {@code mode} ({@code --fit} is
     * {@code fit.mode}). On a field only.
     */
    String key() default "";

    /**
     * Whether the value is part of a run's recipe. Not for where a run writes (-o, --report, a
     * checkpoint), how it talks (--verbose) or the recipe options themselves.
     */
    boolean recorded() default true;

    /** How prominent an option is. */
    enum Level {
        /** In the short --help: what most runs set. */
        BASIC,
        /** In --help-all only. */
        ADVANCED,
        /** In --help-all only, marked: a knob whose default an ablation chose (docs/lab/results-log.md). */
        RESEARCH
    }

    /** The stages of a run, in the order they run; the key prefix and the heading of each group. */
    enum Stage {
        INPUT("input", "Input model"),
        DATA("data", "Data and preprocessing"),
        PLAN("plan", "Decomposition plan"),
        FIT("fit", "Fit"),
        RECOVERY("recovery", "Block recovery"),
        FINETUNE("finetune", "Fine-tune"),
        QUANTIZE("quantize", "int8"),
        VALIDATE("validate", "Validation"),
        WRITE("write", "Output"),
        RUNTIME("runtime", "ONNX Runtime"),
        RECIPE("recipe", "Recipe"),
        GENERAL("general", "General"),
        /** Not a stage: a field's annotation that leaves its stage to its class's. */
        OF_CLASS(null, null);

        final String key;
        final String heading;

        Stage(String key, String heading) {
            this.key = key;
            this.heading = heading;
        }
    }
}
