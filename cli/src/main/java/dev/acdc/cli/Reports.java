package dev.acdc.cli;

import dev.acdc.report.ReportSchema;

import picocli.CommandLine.Model.CommandSpec;

/** The provenance every report of a command carries: acdc's version, this command line, now, its recipe. */
final class Reports {
    private Reports() {
    }

    static ReportSchema.Provenance provenance(CommandSpec spec, Object preprocessing) {
        StringBuilder b = new StringBuilder("acdc");
        var parsed = spec.root().commandLine().getParseResult();
        for (String a : parsed == null ? java.util.List.<String>of() : parsed.originalArgs()) {
            b.append(' ').append(a.isEmpty() || a.matches(".*[\\s'\"$`\\\\].*") ? "'" + a.replace("'", "'\\''") + "'" : a);
        }
        return ReportSchema.Provenance.of(b.toString(), preprocessing).withRecipe(Recipe.of(spec));
    }
}
