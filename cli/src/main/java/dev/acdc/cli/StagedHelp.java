package dev.acdc.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * --help grouped by the stage each option sets ({@link Setting}). A command with more than {@value #SHORT}
 * options shows only its {@link Setting.Level#BASIC} ones and says how to see the rest; {@code --help-all}
 * shows every option, each group headed by its recipe key prefix, and the research knobs apart.
 */
final class StagedHelp {
    /** The most options a short --help lists. */
    static final int SHORT = 25;

    private static final ThreadLocal<Boolean> ALL = ThreadLocal.withInitial(() -> false);

    private StagedHelp() {
    }

    /** Installs the grouped option list on {@code cl} and its subcommands. */
    static void install(CommandLine cl) {
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST, StagedHelp::optionList);
        if (abridged(cl.getCommandSpec())) {
            cl.getCommandSpec().usageMessage().abbreviateSynopsis(true);
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            install(sub);
        }
    }

    /** Runs {@code body} with every option shown (--help-all). */
    static int showingAll(java.util.function.IntSupplier body) {
        ALL.set(true);
        try {
            return body.getAsInt();
        } finally {
            ALL.set(false);
        }
    }

    /** Whether {@code spec}'s short help leaves options out. */
    static boolean abridged(CommandSpec spec) {
        return spec.options().stream().filter(o -> !o.hidden()).count() > SHORT;
    }

    /** The options {@code spec}'s help shows, in stage order; {@code all}: every one. */
    static List<OptionSpec> shown(CommandSpec spec, boolean all) {
        List<OptionSpec> os = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            boolean basic = o.usageHelp() || Recipe.setting(o).level() == Setting.Level.BASIC;
            if (!o.hidden() && (all || !abridged(spec) || basic)) {
                os.add(o);
            }
        }
        os.sort(Comparator.comparing((OptionSpec o) -> Recipe.setting(o).stage()).thenComparing(Recipe::name));
        return os;
    }

    private static String optionList(Help help) {
        CommandSpec spec = help.commandSpec();
        boolean all = ALL.get();
        Map<Setting.Stage, List<OptionSpec>> groups = new EnumMap<>(Setting.Stage.class);
        Map<Setting.Stage, List<OptionSpec>> research = new EnumMap<>(Setting.Stage.class);
        for (OptionSpec o : shown(spec, all)) {
            boolean knob = all && abridged(spec) && Recipe.setting(o).level() == Setting.Level.RESEARCH;
            (knob ? research : groups).computeIfAbsent(Recipe.setting(o).stage(), s -> new ArrayList<>()).add(o);
        }
        StringBuilder b = new StringBuilder();
        groups.forEach((stage, os) -> b.append(group(help, stage.heading + (all ? keys(stage, os) : ""), os)));
        // the knobs whose defaults ablations chose (docs/lab/results-log.md), apart, by stage
        research.forEach((stage, os) -> b.append(group(help, stage.heading + ", research knobs" + keys(stage, os), os)));
        b.append(recipeLines(help, spec, all));
        return b.toString();
    }

    /** " (fit.NAME; --fit is fit.mode)": the group's key prefix and the keys that are not prefix + name. */
    private static String keys(Setting.Stage stage, List<OptionSpec> os) {
        StringBuilder b = new StringBuilder(" (" + stage.key + ".NAME");
        String sep = "; ";
        for (OptionSpec o : os) {
            String k = Recipe.key(o);
            if (Recipe.setting(o).recorded() && !k.equals(stage.key + "." + Recipe.name(o))) {
                b.append(sep).append(o.longestName()).append(" is ").append(k);
                sep = ", ";
            }
        }
        return b.append(")").toString();
    }

    private static String group(Help help, String heading, List<OptionSpec> os) {
        Help.Layout layout = help.createDefaultLayout();
        for (OptionSpec o : os) {
            layout.addOption(o, help.parameterLabelRenderer());
        }
        return System.lineSeparator() + heading + ":" + System.lineSeparator() + layout;
    }

    private static String recipeLines(Help help, CommandSpec spec, boolean all) {
        List<OptionSpec> os = new ArrayList<>();
        os.add(OptionSpec.builder("--recipe").paramLabel("FILE").type(String.class).description("Run with the "
                + "settings of FILE: a report of an earlier run (its acdc.recipe) or lines of STAGE.NAME=VALUE; "
                + "options given on the command line win.").build());
        os.add(OptionSpec.builder("--set").paramLabel("STAGE.NAME=VALUE").type(String.class).description("Set any "
                + "option by its key, e.g. finetune.lr=0.05 (repeatable; wins over --recipe).").build());
        if (abridged(spec) && !all) {
            int total = shown(spec, true).size();
            os.add(OptionSpec.builder("--help-all").arity("0").description("Show all " + total + " options ("
                    + (total - shown(spec, false).size()) + " more), grouped by stage, with their keys.").build());
        }
        return group(help, "Recipe", os);
    }
}
