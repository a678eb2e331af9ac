package dev.acdc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings as recipe keys: the short and the full help, --set, --recipe, and a report's recipe rerun exactly. */
class RecipeTest {
    @TempDir
    Path tmp;

    private static CommandSpec compressSpec() {
        CommandLine cl = new CommandLine(new Main());
        return cl.getSubcommands().get("compress").getCommandSpec();
    }

    /** The option lines of a help text: lines that start (after the indent) with a dash. */
    private static long optionLines(String help) {
        return help.lines().filter(l -> l.matches("^ {2}(-[a-zA-Z], )?--?[a-zA-Z].*|^ {6}--[a-z].*")).count();
    }

    @Test
    void shortHelpListsAtMost25OptionsAndHelpAllListsEveryOneWithItsKey() {
        CliTest.Run h = run("compress", "--help");
        assertEquals(0, h.code(), h.err());
        long shown = optionLines(h.out());
        assertTrue(shown <= StagedHelp.SHORT && shown >= 15, shown + " options in\n" + h.out());
        assertTrue(h.out().contains("--help-all") && h.out().startsWith("Usage: acdc compress [OPTIONS] MODEL.onnx"),
                h.out());
        assertFalse(h.out().contains("--temperature"), "a research knob is not in the short help");
        CliTest.Run all = run("compress", "--help-all");
        assertEquals(0, all.code(), all.err());
        CommandSpec spec = compressSpec();
        for (OptionSpec o : spec.options()) {
            if (!o.hidden()) {
                // a negatable option shows as --[no-]NAME
                java.util.regex.Pattern n = java.util.regex.Pattern.compile("[-\\]]" + Recipe.name(o) + "([= ]|$)",
                        java.util.regex.Pattern.MULTILINE);
                assertTrue(n.matcher(all.out()).find(), o.longestName() + " missing from --help-all");
            }
        }
        assertTrue(optionLines(all.out()) > 60, "every option: " + optionLines(all.out()));
        // each stage's heading says its key prefix; a recorded option's key is that prefix + its name, less the
        // stage's name where the option repeats it (then the heading says so)
        for (Map.Entry<String, OptionSpec> e : Recipe.keys(spec).entrySet()) {
            String prefix = e.getKey().substring(0, e.getKey().indexOf('.'));
            String name = e.getValue().longestName().substring(2);
            assertTrue(all.out().contains("(" + prefix + ".NAME"), e.getKey());
            if (name.equals(prefix) || name.startsWith(prefix + "-")) {
                assertEquals(prefix + "." + (name.equals(prefix) ? "mode" : name.substring(prefix.length() + 1)), e.getKey());
                assertTrue(all.out().contains("--" + name + " is " + e.getKey()), e.getKey());
            } else {
                assertEquals(prefix + "." + name, e.getKey());
            }
        }
        assertTrue(all.out().contains("Fit, research knobs (fit.NAME; --fit-iterations is fit.iterations, --fit-target is "
                + "fit.target)") && all.out().contains("Block recovery (recovery.NAME; --recovery is recovery.mode)"), all.out());
        assertTrue(all.out().contains("Fine-tune, research knobs (finetune.NAME)") && all.out().contains("--temperature"),
                all.out());
        // a command with few options lists them all in --help
        CliTest.Run bench = run("bench", "--help");
        assertTrue(bench.out().contains("--runs") && !bench.out().contains("--help-all"), bench.out());
    }

    /**
     * compress binds each stage's options in one argument group, headed as --help heads that stage, and every
     * option of a group belongs to its stage: a stage's options are found in one class.
     */
    @Test
    void eachStageIsOneArgumentGroupWithItsHeading() {
        CommandSpec spec = compressSpec();
        java.util.Set<Setting.Stage> grouped = new java.util.HashSet<>();
        for (CommandLine.Model.ArgGroupSpec g : spec.argGroups()) {
            Setting.Stage stage = Recipe.setting(g.options().iterator().next()).stage();
            assertEquals(stage.heading + "%n", g.heading(), "group of " + g.options());
            assertTrue(grouped.add(stage), "one group a stage: " + stage);
            for (OptionSpec o : g.options()) {
                assertEquals(stage, Recipe.setting(o).stage(), o.longestName() + " in the group of " + stage);
            }
        }
        assertTrue(grouped.containsAll(java.util.EnumSet.of(Setting.Stage.INPUT, Setting.Stage.PLAN,
                Setting.Stage.FIT, Setting.Stage.RECOVERY, Setting.Stage.FINETUNE, Setting.Stage.QUANTIZE,
                Setting.Stage.VALIDATE, Setting.Stage.WRITE)), grouped.toString());
    }

    /**
     * One meaning per option name across commands: an option that several commands show has the same recipe
     * key in each (the stage it sets), so --batch is the training batch wherever it is shown and the untimed
     * iterations of the benchmarks are --warmup-runs and --warmup-steps, not the fine-tune's --warmup.
     */
    @Test
    void anOptionNameMeansOneThingInEveryCommand() {
        CommandLine root = new CommandLine(new Main());
        Map<String, String> keyOf = new java.util.TreeMap<>();
        Map<String, String> where = new java.util.HashMap<>();
        List<String> conflicts = new java.util.ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            for (OptionSpec o : sub.getCommandSpec().options()) {
                if (o.hidden() || o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String name = o.longestName();
                String key = Recipe.key(o);
                String before = keyOf.putIfAbsent(name, key);
                String cmd = sub.getCommandName();
                if (before != null && !before.equals(key)) {
                    conflicts.add(name + " is " + before + " in " + where.get(name) + " but " + key + " in " + cmd);
                }
                where.putIfAbsent(name, cmd);
            }
        }
        assertEquals(List.of(), conflicts);
        assertTrue(keyOf.size() > 60, keyOf.toString());
    }

    /**
     * Every key the Java API's recipe writes ({@code RequestRecipe}) is a key of the command, for a request with
     * every optional setting given, so that a report written through the API reruns in the command whatever
     * it set; and the keys it writes cover every stage.
     */
    @Test
    void theApisRecipeWritesOnlyTheCommandsKeys() {
        dev.acdc.data.Dataset data = new dev.acdc.data.SyntheticDataset(8, 3, 8, 8, 2, 1);
        dev.acdc.data.Preprocessing pre = dev.acdc.data.Preprocessing.defaults();
        dev.acdc.decompose.Settings settings = dev.acdc.decompose.Settings.of("block", "4", "8", null, "stem.*")
                .withSetAtoms(Map.of("s0", 3)).withPointwise(dev.acdc.decompose.Settings.FULL_RANK);
        dev.acdc.runtime.workflow.CompressionJob.Request r = dev.acdc.runtime.workflow.CompressionJob.Request
                .of(tmp.resolve("m.onnx"), settings, tmp.resolve("out.onnx"))
                .withCalibration(dev.acdc.runtime.workflow.CompressionJob.Calibration.of(data, pre))
                .withFineTune(dev.acdc.runtime.workflow.FineTuneJob.Settings.of(data, data, pre,
                        dev.acdc.train.TrainOptions.builder().augment(true).build()))
                .withEvaluation(dev.acdc.runtime.workflow.CompressionJob.Evaluation.of(data, pre))
                .withRecovery(dev.acdc.runtime.recovery.BlockRecovery.Options.parse("epochs=3"))
                .toBuilder()
                .encode(new dev.acdc.runtime.workflow.EncodeOptions(null, new dev.acdc.runtime.quantize.Quantization
                        .Request(dev.acdc.quantize.Quantizer.Mode.STATIC, dev.acdc.quantize.RangeStatistics.Method
                        .PERCENTILE, 99.9, java.util.regex.Pattern.compile("fc"))))
                .load(new dev.acdc.runtime.workflow.CompressionJob.LoadOptions(new long[] {1, 3, 8, 8}))
                .build();
        Map<String, String> api = dev.acdc.runtime.workflow.RequestRecipe.of(r);
        java.util.Set<String> command = Recipe.keys(compressSpec()).keySet();
        java.util.Set<String> unknown = new java.util.TreeSet<>(api.keySet());
        unknown.removeAll(command);
        assertEquals(java.util.Set.of(), unknown, "keys the command does not have");
        java.util.Set<String> stages = new java.util.TreeSet<>();
        api.keySet().forEach(k -> stages.add(k.substring(0, k.indexOf('.'))));
        assertEquals(java.util.Set.of("data", "finetune", "fit", "general", "input", "plan", "quantize", "recovery",
                "runtime", "write"), stages);
        // a size target instead of the per-set counts, and a drop target
        Map<String, String> sized = dev.acdc.runtime.workflow.RequestRecipe.of(r.withPlan(
                dev.acdc.runtime.workflow.PlanOptions.of(dev.acdc.decompose.Settings.defaults()).withTargetSize(0.3)));
        assertEquals("0.3", sized.get("plan.target-size"));
        assertTrue(command.contains("plan.target-drop") && command.contains("plan.set-atoms"));
        assertEquals("s0=3", api.get("plan.set-atoms"));
        assertEquals("full", api.get("plan.pointwise"));
        assertEquals("99.9", api.get("quantize.percentile"));
        assertEquals("true", api.get("finetune.augment"));
    }

    @Test
    void keysDoNotRepeatTheStageAndAnEarlierRunsKeysStillBind() throws Exception {
        CommandLine root = new CommandLine(new Main());
        assertEquals(java.util.List.of("compress", "--fit-iterations=5", "--recovery=off", "m.onnx"), java.util.List.of(
                Recipe.expand(root, new String[] {"compress", "--set", "fit.iterations=5", "--set", "recovery.mode=off",
                        "m.onnx"})));
        // a report written before keys dropped the repeated stage name reruns with the same settings
        Path old = tmp.resolve("old.recipe");
        Files.writeString(old, "fit.fit-iterations=7\nrecovery.recovery=on\nfit.fit=output\n");
        assertEquals(java.util.List.of("compress", "--fit-iterations=7", "--recovery=on", "--fit=output", "m.onnx"),
                java.util.List.of(Recipe.expand(root, new String[] {"compress", "--recipe", old.toString(), "m.onnx"})));
        assertTrue(Recipe.keys(compressSpec()).keySet().stream().noneMatch(k -> k.matches("(\\w+)\\.\\1(-.*)?")),
                "no key repeats its stage: " + Recipe.keys(compressSpec()).keySet());
    }

    @Test
    void theReferenceIsTheFullHelp() throws Exception {
        Path md = CliTest.testdata().getParent().resolve("docs/cli.md");
        String doc = Files.readString(md);
        String all = run("compress", "--help-all").out();
        assertTrue(doc.contains(all.strip()), "docs/cli.md is stale for compress: run docs/make-cli-md.sh");
    }

    @Test
    void aReportsRecipeRerunsToTheSameBytesAndSetChangesOneSetting() throws Exception {
        Path dir = CliTest.testdata();
        Path model = dir.resolve("fmnist-resnet14.onnx");
        String train = CliTest.fmnistTrain();
        Path a = tmp.resolve("a.onnx");
        CliTest.Run r = run("compress", model.toString(), "-o", a.toString(), "--share", "block", "--pointwise", "0.5",
                "--calibration-data", train, "--calibration-images", "48", "--sensitivity-images", "0",
                "--recovery", "off", "--no-local-functions");
        assertEquals(0, r.code(), r.err());
        JsonNode recipe = Json.mapper().readTree(tmp.resolve("a.report.json").toFile()).get("acdc").get("recipe");
        assertEquals("block", recipe.get("plan.share").asText());
        assertEquals("48", recipe.get("data.calibration-images").asText());
        assertEquals(train, recipe.get("data.calibration-data").asText());
        assertEquals("false", recipe.get("write.local-functions").asText());
        assertFalse(recipe.has("write.output") || recipe.has("general.verbose"), "where it writes is not a setting");

        Path b = tmp.resolve("b.onnx");
        CliTest.Run again = run("compress", model.toString(), "--recipe", tmp.resolve("a.report.json").toString(),
                "-o", b.toString());
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the recipe reruns the same model");
        assertEquals(recipe, Json.mapper().readTree(tmp.resolve("b.report.json").toFile()).get("acdc").get("recipe"));

        // --set over the recipe, and an option given on the command line over both
        Path c = tmp.resolve("c.onnx");
        CliTest.Run set = run("compress", model.toString(), "--recipe", tmp.resolve("a.report.json").toString(),
                "--set", "plan.share=layer", "--calibration-images", "32", "-o", c.toString());
        assertEquals(0, set.code(), set.err());
        JsonNode rc = Json.mapper().readTree(tmp.resolve("c.report.json").toFile()).get("acdc").get("recipe");
        assertEquals("layer", rc.get("plan.share").asText());
        assertEquals("32", rc.get("data.calibration-images").asText());
        assertEquals("0.5", rc.get("plan.pointwise").asText());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));

        // a recipe of lines, with a comment
        Path lines = tmp.resolve("small.recipe");
        Files.writeString(lines, "# the block scope, two atoms\nplan.share = block\nplan.atoms=2\nwrite.local-functions=false\n");
        Path d = tmp.resolve("d.onnx");
        assertEquals(0, run("compress", model.toString(), "--recipe", lines.toString(), "-o", d.toString()).code());
        Path e = tmp.resolve("e.onnx");
        assertEquals(0, run("compress", model.toString(), "--share", "block", "--atoms", "2", "--no-local-functions",
                "-o", e.toString()).code());
        assertArrayEquals(Files.readAllBytes(e), Files.readAllBytes(d), "a recipe binds as the options it stands for");
    }

    @Test
    void badKeysAndRecipesAreOneLineErrorsAndWriteNothing() throws Exception {
        Path model = CliTest.testdata().resolve("tiny-resnet.onnx");
        String out = tmp.resolve("x.onnx").toString();
        String[][] cases = {
            {"--set", "plan.atom=3"}, {"--set", "atoms=3"}, {"--set", "write.output=y.onnx"},
            {"--set", "plan.atoms=3", "--atoms", "2"}, {"--set", "plan.atoms=3", "--set", "plan.atoms=4"},
            {"--set", "noequals"}, {"--set", "finetune.augment=maybe"}, {"--recipe", tmp.resolve("none.json").toString()},
            {"--set", "plan.atoms=zero"},
        };
        String[] says = {
            "did you mean plan.atoms?", "did you mean plan.atoms?", "is not part of a recipe",
            "both set it", "given twice", "is not KEY=VALUE", "true or false", "recipe not found",
            "--atoms",
        };
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 4];
            args[0] = "compress";
            args[1] = model.toString();
            args[2] = "-o";
            args[3] = out;
            System.arraycopy(cases[i], 0, args, 4, cases[i].length);
            CliTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(says[i]) && r.err().strip().lines().count() == 1,
                    String.join(" ", cases[i]) + ": " + r.err());
            assertFalse(Files.exists(Path.of(out)));
        }
        Path report = tmp.resolve("old.report.json");
        Files.writeString(report, "{\"schemaVersion\": 1, \"kind\": \"compress\", \"acdc\": {\"command\": \"acdc compress m\"}}");
        CliTest.Run old = run("compress", model.toString(), "--recipe", report.toString(), "-o", out);
        assertEquals(2, old.code());
        assertTrue(old.err().contains("has no recipe"), old.err());
    }
}
