package dev.acdc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.acdc.AcdcException;
import dev.acdc.util.Json;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's settings as keys {@code stage.name=value} (e.g. {@code finetune.lr=0.05}): every option of a
 * command that {@link Setting#recorded} has a key, its stage's and its long name's. A report records
 * the recipe of the run that wrote it ({@link #of}); {@code --recipe FILE} (a report, or a file of
 * {@code key=value} lines or a JSON object of them) gives a run those settings and {@code --set KEY=VALUE}
 * one more; an option given on the command line wins over both, {@code --set} over the file. Both are
 * expanded into ordinary options before the command line is parsed ({@link #expand}), so a recipe
 * binds exactly as the options it stands for, with the same checks.
 */
final class Recipe {
    private Recipe() {
    }

    /**
     * Where an option belongs: its field's {@link Setting}, else its class's (an options class or a stage's
     * arguments group), else general and advanced; a field's annotation without a stage takes its class's.
     */
    record Placement(Setting.Stage stage, Setting.Level level, String key, boolean recorded) {
    }

    /** The option's placement ({@link Placement}). */
    static Placement setting(OptionSpec o) {
        Setting f = null;
        Setting c = null;
        if (o.userObject() instanceof Field field) {
            f = field.getAnnotation(Setting.class);
            c = field.getDeclaringClass().getAnnotation(Setting.class);
        }
        Setting.Stage stage = f != null && f.stage() != Setting.Stage.OF_CLASS ? f.stage()
                : c != null && c.stage() != Setting.Stage.OF_CLASS ? c.stage() : Setting.Stage.GENERAL;
        Setting s = f != null ? f : c;
        return s == null ? new Placement(stage, Setting.Level.ADVANCED, "", true)
                : new Placement(stage, s.level(), s.key(), s.recorded());
    }

    /** The option's name in keys: its longest name without the dashes ({@code --lr} → {@code lr}). */
    static String name(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    /**
     * The option's key: its stage, then its name less the stage's name where it repeats it
     * ({@code --fit-iterations} → {@code fit.iterations}; {@code --recovery} → {@code recovery.mode}).
     */
    static String key(OptionSpec o) {
        String stage = setting(o).stage().key;
        String n = name(o);
        if (n.equals(stage)) {
            n = setting(o).key().isEmpty() ? "mode" : setting(o).key();
        } else if (n.startsWith(stage + "-")) {
            n = n.substring(stage.length() + 1);
        }
        return stage + "." + n;
    }

    /** The key an option had before keys dropped the repeated stage name (reports of earlier runs). */
    private static String formerKey(OptionSpec o) {
        return setting(o).stage().key + "." + name(o);
    }

    /** {@code k}, or the key it now is when it is an earlier run's key ({@code fit.fit-iterations}). */
    private static String current(Map<String, OptionSpec> keys, String k) {
        if (keys.containsKey(k)) {
            return k;
        }
        for (Map.Entry<String, OptionSpec> e : keys.entrySet()) {
            if (formerKey(e.getValue()).equals(k)) {
                return e.getKey();
            }
        }
        return k;
    }

    /** Every recorded option of {@code spec} by key, in stage order, then by name. */
    static Map<String, OptionSpec> keys(CommandSpec spec) {
        List<OptionSpec> os = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (setting(o).recorded() && !o.usageHelp() && !o.versionHelp()) {
                os.add(o);
            }
        }
        os.sort(Comparator.comparing((OptionSpec o) -> setting(o).stage()).thenComparing(Recipe::name));
        Map<String, OptionSpec> keys = new LinkedHashMap<>();
        for (OptionSpec o : os) {
            OptionSpec before = keys.put(key(o), o);
            if (before != null) {
                throw new IllegalStateException("options " + before.longestName() + " and " + o.longestName()
                        + " have the same recipe key " + key(o));
            }
        }
        return keys;
    }

    /**
     * The recipe of the parsed command {@code spec}: every recorded option that has a value (given or
     * defaulted; one left unset means "chosen by the run", e.g. --fit by whether data are given).
     */
    static Map<String, String> of(CommandSpec spec) {
        Map<String, String> r = new LinkedHashMap<>();
        keys(spec).forEach((k, o) -> {
            String v = format(o.getValue());
            if (v != null) {
                r.put(k, v);
            }
        });
        return r;
    }

    private static String format(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Collection<?> c) {
            return c.isEmpty() ? null : join(c.iterator());
        }
        if (v.getClass().isArray()) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < java.lang.reflect.Array.getLength(v); i++) {
                items.add(java.lang.reflect.Array.get(v, i));
            }
            return items.isEmpty() ? null : join(items.iterator());
        }
        return v.toString();
    }

    private static String join(Iterator<?> it) {
        StringBuilder b = new StringBuilder();
        while (it.hasNext()) {
            b.append(b.length() == 0 ? "" : ",").append(it.next());
        }
        return b.toString();
    }

    /**
     * {@code args} with {@code --recipe FILE} and every {@code --set KEY=VALUE} replaced by the options they
     * stand for (placed before the others, and left out where the command line gives that option itself).
     * {@code args} unchanged when it has neither.
     */
    static String[] expand(CommandLine root, String[] args) {
        if (args.length == 0 || !root.getSubcommands().containsKey(args[0])) {
            return args;
        }
        CommandLine sub = root.getSubcommands().get(args[0]);
        List<String> rest = new ArrayList<>();
        Map<String, String> sets = new LinkedHashMap<>();
        String recipeFile = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                rest.addAll(List.of(args).subList(i, args.length));
                break;
            }
            if (a.equals("--set") || a.startsWith("--set=")) {
                String kv = a.equals("--set") ? value(args, ++i, "--set") : a.substring("--set=".length());
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new AcdcException("--set '" + kv + "' is not KEY=VALUE (e.g. --set finetune.lr=0.05; "
                            + args[0] + " --help-all lists the keys)");
                }
                String k = kv.substring(0, eq).trim();
                if (sets.put(k, kv.substring(eq + 1).trim()) != null) {
                    throw new AcdcException("--set " + k + " is given twice: give it once");
                }
            } else if (a.equals("--recipe") || a.startsWith("--recipe=")) {
                if (recipeFile != null) {
                    throw new AcdcException("--recipe is given twice: give one recipe (and --set KEY=VALUE for changes)");
                }
                recipeFile = a.equals("--recipe") ? value(args, ++i, "--recipe") : a.substring("--recipe=".length());
            } else {
                rest.add(a);
            }
        }
        if (sets.isEmpty() && recipeFile == null) {
            return args;
        }
        CommandSpec spec = sub.getCommandSpec();
        Map<String, OptionSpec> keys = keys(spec);
        Map<String, String> merged = new LinkedHashMap<>();
        if (recipeFile != null) {
            Map<String, String> file = read(Path.of(recipeFile));
            for (Map.Entry<String, String> e : file.entrySet()) {
                String k = current(keys, e.getKey());
                check(spec, keys, k, "recipe " + recipeFile);
                merged.put(k, e.getValue());
            }
        }
        for (Map.Entry<String, String> e : sets.entrySet()) {
            String k = current(keys, e.getKey());
            check(spec, keys, k, "--set");
            OptionSpec o = keys.get(k);
            if (given(sub, o, rest)) {
                throw new AcdcException("--set " + e.getKey() + " and " + o.longestName() + " both set it: give one");
            }
            merged.put(k, e.getValue());
        }
        List<String> out = new ArrayList<>();
        out.add(args[0]);
        merged.forEach((k, v) -> {
            OptionSpec o = keys.get(k);
            if (!given(sub, o, rest)) {
                out.addAll(asArgs(sub, k, o, v));
            }
        });
        out.addAll(rest);
        return out.toArray(new String[0]);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new AcdcException(option + " needs a value" + (option.equals("--set") ? ": KEY=VALUE" : ": FILE"));
        }
        return args[i];
    }

    /** Whether the command line gives {@code o} itself, by any of its names or its negation. */
    private static boolean given(CommandLine sub, OptionSpec o, List<String> rest) {
        List<String> names = new ArrayList<>(List.of(o.names()));
        if (o.negatable()) {
            for (String n : o.names()) {
                String neg = sub.getNegatableOptionTransformer().makeNegative(n, sub.getCommandSpec());
                if (neg != null) {
                    names.add(neg);
                }
            }
        }
        for (String a : rest) {
            for (String n : names) {
                if (a.equals(n) || a.startsWith(n + "=")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<String> asArgs(CommandLine sub, String key, OptionSpec o, String v) {
        if (o.arity().max() == 0) {
            boolean on;
            if (v.equalsIgnoreCase("true")) {
                on = true;
            } else if (v.equalsIgnoreCase("false")) {
                on = false;
            } else {
                throw new AcdcException(key + " is on or off: true or false, got '" + v + "'");
            }
            if (on) {
                return List.of(o.longestName());
            }
            if (o.negatable()) {
                return List.of(sub.getNegatableOptionTransformer().makeNegative(o.longestName(), sub.getCommandSpec()));
            }
            return List.of(); // off is a flag's default
        }
        return List.of(o.longestName() + "=" + v);
    }

    private static void check(CommandSpec spec, Map<String, OptionSpec> keys, String k, String where) {
        if (keys.containsKey(k)) {
            return;
        }
        String cmd = spec.qualifiedName();
        String bare = k.contains(".") ? k.substring(k.lastIndexOf('.') + 1) : k;
        for (Map.Entry<String, OptionSpec> e : keys.entrySet()) {
            if (name(e.getValue()).equals(bare) || e.getKey().endsWith("." + bare)) {
                throw new AcdcException(where + ": no setting " + k + " in " + cmd + "; did you mean " + e.getKey()
                        + "? (keys are STAGE.NAME; " + cmd + " --help-all lists them)");
            }
        }
        for (OptionSpec o : spec.options()) {
            if (name(o).equals(bare)) {
                throw new AcdcException(where + ": " + o.longestName() + " is not part of a recipe (where a run writes "
                        + "and how it reports are not settings): give " + o.longestName() + " itself");
            }
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String key : keys.keySet()) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = key;
            }
        }
        throw new AcdcException(where + ": no setting " + k + " in " + cmd
                + (best != null && bestDistance <= 3 ? "; did you mean " + best + "?" : "")
                + " (" + cmd + " --help-all lists the keys)");
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1),
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * The settings of a recipe file: a report (its {@code acdc.recipe}), a JSON object of keys, or lines of
     * {@code key=value} ({@code #} starts a comment).
     */
    static Map<String, String> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new AcdcException("recipe not found: " + file);
        } catch (IOException e) {
            throw new AcdcException("cannot read recipe " + file + ": " + e.getMessage());
        }
        Map<String, String> r = new LinkedHashMap<>();
        if (text.stripLeading().startsWith("{")) {
            JsonNode doc;
            try {
                doc = Json.mapper().readTree(text);
            } catch (IOException e) {
                throw new AcdcException("recipe " + file + " is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            JsonNode keys = doc.path("acdc").has("recipe") ? doc.path("acdc").path("recipe")
                    : doc.has("recipe") ? doc.get("recipe") : doc;
            if (keys == doc && doc.has("kind")) {
                throw new AcdcException("report " + file + " has no recipe (written by an acdc before reports recorded "
                        + "one): rerun with its command line, acdc.command");
            }
            for (Map.Entry<String, JsonNode> e : keys.properties()) {
                JsonNode v = e.getValue();
                if (v.isNull()) {
                    continue;
                }
                if (!v.isValueNode()) {
                    throw new AcdcException("recipe " + file + ": " + e.getKey() + " must be a single value, got " + v);
                }
                r.put(e.getKey(), v.asText());
            }
            return r;
        }
        int line = 0;
        for (String l : text.split("\\R")) {
            line++;
            String s = l.replaceFirst("#.*", "").trim();
            if (s.isEmpty()) {
                continue;
            }
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new AcdcException("recipe " + file + " line " + line + ": '" + l.trim() + "' is not KEY=VALUE");
            }
            r.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        return r;
    }
}
