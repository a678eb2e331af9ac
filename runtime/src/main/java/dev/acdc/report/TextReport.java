package dev.acdc.report;

import dev.acdc.util.Table;

import java.util.ArrayList;
import java.util.List;

/** The compression report as the console shows it: the per-conv table and the before/after summary. */
public final class TextReport {
    /** Notes that start so are the verdict's warnings, which the command prints on their own. */
    public static final String WARNING = "warning: ";

    private TextReport() {
    }

    /** The wide form: every column of the per-conv table, names whole. */
    public static String render(CompressReport r) {
        return render(r, true);
    }

    /**
     * The report for the console; {@code wide} false: the per-conv table fits 100 columns (names shortened in
     * the middle, a set named as its conv shown as {@code =}, the output fit's error columns reduced to the
     * fitted ones, why a conv stayed dense listed under the table). The report files hold every column.
     */
    public static String render(CompressReport r, boolean wide) {
        return render(r, wide, 100);
    }

    /**
     * As {@link #render(CompressReport, boolean)} for a console of {@code columns} (narrow form only): the conv
     * names and set ids are shortened further, down to {@value #MIN_NAME} characters, until the table fits.
     */
    public static String render(CompressReport r, boolean wide, int columns) {
        StringBuilder sb = new StringBuilder();
        boolean outFit = r.outputFitted();
        List<String> dense = new ArrayList<>();
        Table t = convTable(r, wide, outFit, NAME, SET, dense);
        for (int name = NAME - 2; !wide && columns > 0 && name >= MIN_NAME && widest(t) > columns; name -= 2) {
            dense.clear();
            t = convTable(r, false, outFit, name, Math.min(SET, name), dense);
        }
        sb.append(t);
        for (String d : dense) {
            sb.append("dense: ").append(dev.acdc.util.Text.printable(d)).append('\n');
        }
        if (!wide && outFit) {
            sb.append("(weight and output errors of the fit, relative; --wide or the report for the SVD's)\n");
        }
        sb.append('\n');
        CompressReport.ModelStats in = r.input();
        CompressReport.ModelStats out = r.output();
        Table ba = new Table("", "before", "after", "ratio").leftAligned();
        ba.row("params", in.params(), out.params(), ratio(out.params(), in.params()));
        ba.row("bytes", in.bytes(), out.bytes(), ratio(out.bytes(), in.bytes()));
        ba.row("MACs", in.macs(), out.macs(), ratio(out.macs(), in.macs()));
        long fm = out.macsFactorized() == null ? out.macs() : out.macsFactorized();
        ba.row("MACs if factorized", in.macs(), fm, ratio(fm, in.macs()));
        ValidationSection v = r.validation();
        if (v != null && v.hasTop1()) {
            double a = v.original().top1();
            double b = v.candidate().top1();
            ba.row("top-1 (" + v.samples() + " images)", String.format("%.2f %%", 100 * a),
                    String.format("%.2f %%", 100 * b), String.format("%+.2f pts", 100 * (b - a)));
            ba.row("agreement", "", String.format("%.2f %%", 100 * v.agreement()), "");
        }
        Double total = r.timings().get("total");
        if (total != null) {
            Double ft = r.timings().get("finetune");
            String parts = ft != null ? String.format(" (fine-tune %.0f s)", ft) : "";
            ba.row("time", "", String.format("%.1f s", total) + parts, "");
        }
        sb.append(ba);
        int sets = r.sets().size();
        CompressReport.Totals tt = r.totals();
        sb.append(String.format("%nspatial conv weights kept: %.1f %% (%d of %d convs decomposed, %d sharing set%s, group %d)%n",
                100 * tt.fractionOfSpatialWeights(), tt.decomposedConvs() - tt.decomposedPointwise(), tt.spatialConvs(),
                sets, sets == 1 ? "" : "s", r.settings().group()));
        if (tt.fractionOfPointwiseWeights() != null) {
            sb.append(String.format("1x1 conv weights kept: %.1f %% (%d of %d factored to low rank, --pointwise)%n",
                    100 * tt.fractionOfPointwiseWeights(), tt.decomposedPointwise(), tt.pointwiseConvs()));
        }
        for (String n : r.notes()) {
            // narrow: the size plan's per-set and per-candidate lines are in the report (and the candidates were
            // printed as they were tried); its summary, totals and --set-atoms line stay
            boolean planDetail = n.startsWith("atom budget: ") && !n.startsWith("atom budget: by hand")
                    && !n.startsWith("atom budget: by kind") || n.startsWith("target drop: tried ");
            if (!n.startsWith(WARNING) && (wide || !planDetail)) {
                sb.append("note: ").append(dev.acdc.util.Text.printable(n)).append('\n');
            }
        }
        return sb.toString();
    }

    /** The per-conv table with names and set ids shortened to the given widths; dense convs' reasons into {@code dense}. */
    private static Table convTable(CompressReport r, boolean wide, boolean outFit, int nameWidth, int setWidth,
                                   List<String> dense) {
        Table t;
        if (wide) {
            t = outFit
                    ? new Table("conv", "kernel", "set", "blocks", "atoms", "weight err svd", "weight err fit",
                            "output err svd", "output err fit", "note").leftAligned(1, 2, 9)
                    : new Table("conv", "kernel", "set", "blocks", "atoms", "rel.error", "note").leftAligned(1, 2, 6);
        } else {
            t = outFit
                    ? new Table("conv", "kernel", "set", "blocks", "atoms", "weight err", "output err", "note")
                            .leftAligned(1, 2, 7)
                    : new Table("conv", "kernel", "set", "blocks", "atoms", "rel.error", "note").leftAligned(1, 2, 6);
        }
        for (CompressReport.Conv c : r.convs()) {
            if (!c.spatial() && !c.decomposed()) {
                continue;
            }
            String kernel = c.kernelString("x");
            String name = wide ? c.name() : shorten(c.name(), nameWidth);
            String set = c.set() == null ? "-" : wide ? c.set() : c.set().equals(c.name()) ? "=" : shorten(c.set(), setWidth);
            if (c.decomposed()) {
                CompressReport.SetEntry s = r.set(c.set());
                int atoms = s == null ? 0 : s.atoms();
                String kept = c.outputError() == null ? "svd fit kept" : "";
                if (outFit && wide) {
                    Double svd = c.relErrorSvd() != null ? c.relErrorSvd() : c.relError();
                    t.row(name, kernel, set, c.blocks(), atoms, Finite.format("%.4f", svd),
                            Finite.format("%.4f", c.relError()), Finite.format("%.4f", c.outputErrorSvd()),
                            Finite.format("%.4f", c.outputError()), kept);
                } else if (outFit) {
                    t.row(name, kernel, set, c.blocks(), atoms, Finite.format("%.4f", c.relError()),
                            Finite.format("%.4f", c.outputError() != null ? c.outputError() : c.outputErrorSvd()),
                            kept.isEmpty() ? "" : "svd kept");
                } else {
                    t.row(name, kernel, set, c.blocks(), atoms, Finite.format("%.4f", c.relError()), "");
                }
            } else {
                String why = wide ? "dense: " + c.reason() : "dense";
                if (!wide) {
                    dense.add(c.name() + ": " + c.reason());
                }
                if (outFit && wide) {
                    t.row(name, kernel, "-", "-", "-", "-", "-", "-", "-", why);
                } else if (outFit) {
                    t.row(name, kernel, "-", "-", "-", "-", "-", why);
                } else {
                    t.row(name, kernel, "-", "-", "-", "-", why);
                }
            }
        }
        return t;
    }

    private static int widest(Table t) {
        return t.toString().lines().mapToInt(String::length).max().orElse(0);
    }

    /** Longest conv name and set id the narrow table shows whole. */
    static final int NAME = 30;
    static final int SET = 16;
    /** The shortest a name gets to fit a narrow console. */
    static final int MIN_NAME = 14;

    /** {@code s} at most {@code max} characters: its start and end around "..". */
    static String shorten(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        int head = (max - 2) / 3;
        return s.substring(0, head) + ".." + s.substring(s.length() - (max - 2 - head));
    }

    private static String ratio(long a, long b) {
        return b == 0 ? "-" : String.format("%.3f", (double) a / b);
    }
}
