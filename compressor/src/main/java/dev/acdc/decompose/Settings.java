package dev.acdc.decompose;

import dev.acdc.AcdcException;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The decomposition's knobs. {@code group} 0 means auto; {@code atoms} 0 means the default for each
 * kernel size ({@link #defaultAtoms}). {@code setAtoms}: per sharing set (by its id), the atoms it gets
 * instead of {@code atoms}, or {@link #DENSE} to keep its convolutions dense (an atom budget); sets it
 * does not name follow {@code atoms}. {@code method}: the {@link DecompositionMethod} by id (null: ACDC).
 * {@code pointwise}: the size a pointwise (1×1) conv's low-rank factors get by default, as a fraction of the
 * dense weights of their set ({@link #defaultPointwiseRank}); 0 keeps every 1×1 conv dense. {@code atoms}
 * applies to spatial kernels only; a pointwise set's rank is set by hand through {@code setAtoms}.
 */
public record Settings(Scope share, int atoms, int group, ExportForm form, Pattern exclude, boolean allowNonfinite,
                       java.util.Map<String, Integer> setAtoms, String method, double pointwise) {
    /** A {@link #setAtoms} value: the set's convolutions stay dense. */
    public static final int DENSE = 0;
    /** The default {@link #pointwise} fraction: a factored 1×1 conv keeps about a quarter of its weights. */
    public static final double DEFAULT_POINTWISE = 0.25;
    /** The {@link #pointwise} value of {@code --pointwise full}: every pointwise set at its full rank (exact). */
    public static final double FULL_RANK = Double.POSITIVE_INFINITY;

    public Settings(Scope share, int atoms, int group, ExportForm form, Pattern exclude) {
        this(share, atoms, group, form, exclude, false, java.util.Map.of(), AcdcMethod.ID, DEFAULT_POINTWISE);
    }

    public Settings(Scope share, int atoms, int group, ExportForm form, Pattern exclude, boolean allowNonfinite,
                    java.util.Map<String, Integer> setAtoms, String method) {
        this(share, atoms, group, form, exclude, allowNonfinite, setAtoms, method, DEFAULT_POINTWISE);
    }

    /** These settings with pointwise convs factored to {@code fraction} of their weights (0: kept dense). */
    public Settings withPointwise(double fraction) {
        return new Settings(share, atoms, group, form, exclude, allowNonfinite, setAtoms, method, fraction);
    }

    /** These settings, going on past weights with NaN/Inf (those convolutions stay dense) when {@code allow}. */
    public Settings allowingNonfinite(boolean allow) {
        return new Settings(share, atoms, group, form, exclude, allow, setAtoms, method, pointwise);
    }

    /** These settings with the decomposition method {@code id} (checked: one {@link DecompositionMethods} knows). */
    public Settings withMethod(String id) {
        DecompositionMethods.get(id);
        return new Settings(share, atoms, group, form, exclude, allowNonfinite, setAtoms, id, pointwise);
    }

    /** These settings with {@code m} atoms for every set (0: each kernel size's default) and no per-set counts. */
    public Settings withAtoms(int m) {
        return new Settings(share, m, group, form, exclude, allowNonfinite, java.util.Map.of(), method, pointwise);
    }

    /** These settings with per-set atom counts ({@link #DENSE}: keep dense) replacing any before. */
    public Settings withSetAtoms(java.util.Map<String, Integer> perSet) {
        return new Settings(share, atoms, group, form, exclude, allowNonfinite,
                java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(perSet)), method, pointwise);
    }

    public Settings {
        setAtoms = setAtoms == null ? java.util.Map.of() : setAtoms;
        method = method == null ? AcdcMethod.ID : method;
        for (var e : setAtoms.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) {
                throw new AcdcException("set " + e.getKey() + ": atoms must be at least 1 (or 0: dense), got "
                        + e.getValue());
            }
        }
        if (!(pointwise >= 0 && pointwise < 1) && pointwise != FULL_RANK) {
            throw new AcdcException("--pointwise must be a fraction of the weights in [0, 1) (0 or 'dense': keep 1x1 convs "
                    + "dense), got " + pointwise);
        }
        if (atoms < 0) {
            throw new AcdcException("--atoms must be at least 1, got " + atoms);
        }
        if (group < 0) {
            throw new AcdcException("--group must be 'auto' or a positive number, got " + group);
        }
    }

    public static Settings defaults() {
        return new Settings(Scope.LAYER, 0, 0, ExportForm.RECONSTRUCT, null);
    }

    public static Settings of(String share, String atoms, String group, String form, String exclude) {
        int a = 0;
        if (atoms != null && !atoms.equalsIgnoreCase("auto")) {
            a = parsePositive("--atoms", atoms);
        }
        int g = 0;
        if (group != null && !group.equalsIgnoreCase("auto")) {
            g = parsePositive("--group", group);
        }
        Pattern ex = null;
        if (exclude != null) {
            try {
                ex = Pattern.compile(exclude);
            } catch (PatternSyntaxException e) {
                throw new AcdcException("--exclude '" + exclude + "' is not a valid regular expression: "
                        + e.getDescription());
            }
        }
        return new Settings(share == null ? Scope.LAYER : Scope.parse(share), a, g,
                form == null ? ExportForm.RECONSTRUCT : ExportForm.parse(form), ex);
    }

    /**
     * {@code --set-atoms SET=M[,SET=M...]}: per sharing set (its id as the plan and the report name it),
     * M atoms or {@code dense}. Each set named once; whether each names a set of the model is checked
     * when the sets are formed.
     */
    public static java.util.Map<String, Integer> parseSetAtoms(String spec) {
        java.util.Map<String, Integer> m = new java.util.LinkedHashMap<>();
        if (spec == null || spec.isBlank()) {
            throw new AcdcException("--set-atoms needs SET=M[,SET=M...] (M atoms, or dense), got nothing");
        }
        for (String part : spec.split(",")) {
            int eq = part.lastIndexOf('=');
            if (eq <= 0 || eq == part.length() - 1) {
                throw new AcdcException("--set-atoms: '" + part.trim() + "' is not SET=M (M atoms, or dense)");
            }
            String id = part.substring(0, eq).trim();
            String v = part.substring(eq + 1).trim();
            int atoms = v.equalsIgnoreCase("dense") ? DENSE : parsePositive("--set-atoms " + id, v);
            if (m.put(id, atoms) != null) {
                throw new AcdcException("--set-atoms names set " + id + " twice");
            }
        }
        return m;
    }

    /** {@code perSet} as {@code --set-atoms} spells it: "a=4,b=dense". */
    public static String formatSetAtoms(java.util.Map<String, Integer> perSet) {
        StringBuilder b = new StringBuilder();
        perSet.forEach((id, a) -> b.append(b.length() == 0 ? "" : ",").append(id).append('=')
                .append(a == DENSE ? "dense" : String.valueOf(a)));
        return b.toString();
    }

    private static int parsePositive(String opt, String v) {
        int x;
        try {
            x = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new AcdcException(opt + " must be a number" + (opt.equals("--group") ? " or 'auto'" : "") + ", got '"
                    + v + "'");
        }
        if (x < 1) {
            throw new AcdcException(opt + " must be at least 1, got " + x);
        }
        return x;
    }

    /**
     * Default atom count for a kernel: the number of Fourier–Bessel bases DCFNet keeps — 6 for 3×3,
     * 14 for 5×5, 38 for 7×7 — and ⌈2/3·kh·kw⌉ for other sizes. The fit caps it by the set's rank.
     */
    public static int defaultAtoms(long kh, long kw) {
        if (kh == 3 && kw == 3) {
            return 6;
        }
        if (kh == 5 && kw == 5) {
            return 14;
        }
        if (kh == 7 && kw == 7) {
            return 38;
        }
        return (int) Math.max(1, (2 * kh * kw + 2) / 3);
    }

    public int atomsFor(long kh, long kw) {
        return atoms > 0 ? atoms : defaultAtoms(kh, kw);
    }

    /**
     * {@code --pointwise F}: a fraction in (0, 1), 0 / "dense" (1×1 convs stay dense) or "full" (every pointwise
     * set at its full rank, which reproduces the weights). Null: the default.
     */
    public static double parsePointwise(String v) {
        if (v == null) {
            return DEFAULT_POINTWISE;
        }
        if (v.trim().equalsIgnoreCase("dense")) {
            return 0;
        }
        if (v.trim().equalsIgnoreCase("full")) {
            return FULL_RANK;
        }
        double f;
        try {
            f = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new AcdcException("--pointwise must be a fraction of the weights such as 0.25, 'dense' or 'full', got '" + v + "'");
        }
        if (!(f >= 0 && f < 1)) {
            throw new AcdcException("--pointwise must be a fraction of the weights in [0, 1) such as 0.25, 'dense' or 'full', got " + v);
        }
        return f;
    }

    /**
     * The default rank of a pointwise set whose members read {@code in} channels and write {@code outs}
     * channels in all: its factors (in + outs)·r then hold about {@link #pointwise} of the dense in·outs
     * weights, r = round(F · in·outs / (in + outs)), at least 1. A fraction of 0 is never asked here.
     */
    public int defaultPointwiseRank(long in, long outs) {
        if (pointwise == FULL_RANK) {
            return (int) Math.min(in, outs);
        }
        double useful = (double) in * outs / (in + outs);
        return (int) Math.max(1, Math.round(pointwise * useful));
    }
}
