package dev.acdc.report;

import dev.acdc.util.Table;

/** The compression report as the console shows it: the per-conv table and the before/after summary. */
public final class TextReport {
    /** Notes that start so are the verdict's warnings, which the command prints on their own. */
    public static final String WARNING = "warning: ";

    private TextReport() {
    }

    public static String render(CompressReport r) {
        StringBuilder sb = new StringBuilder();
        boolean outFit = r.outputFitted();
        Table t = outFit
                ? new Table("conv", "kernel", "set", "blocks", "atoms", "weight err svd", "weight err fit",
                        "output err svd", "output err fit", "note").leftAligned(1, 2, 9)
                : new Table("conv", "kernel", "set", "blocks", "atoms", "rel.error", "note").leftAligned(1, 2, 6);
        for (CompressReport.Conv c : r.convs()) {
            if (!c.spatial() && !c.decomposed()) {
                continue;
            }
            String kernel = c.kernelString("x");
            if (c.decomposed()) {
                CompressReport.SetEntry s = r.set(c.set());
                int atoms = s == null ? 0 : s.atoms();
                if (outFit) {
                    Double svd = c.relErrorSvd() != null ? c.relErrorSvd() : c.relError();
                    t.row(c.name(), kernel, c.set(), c.blocks(), atoms, Finite.format("%.4f", svd),
                            Finite.format("%.4f", c.relError()), Finite.format("%.4f", c.outputErrorSvd()),
                            Finite.format("%.4f", c.outputError()), c.outputError() == null ? "svd fit kept" : "");
                } else {
                    t.row(c.name(), kernel, c.set(), c.blocks(), atoms, Finite.format("%.4f", c.relError()), "");
                }
            } else if (outFit) {
                t.row(c.name(), kernel, "-", "-", "-", "-", "-", "-", "-", "dense: " + c.reason());
            } else {
                t.row(c.name(), kernel, "-", "-", "-", "-", "dense: " + c.reason());
            }
        }
        sb.append(t);
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
            if (!n.startsWith(WARNING)) {
                sb.append("note: ").append(dev.acdc.util.Text.printable(n)).append('\n');
            }
        }
        return sb.toString();
    }

    private static String ratio(long a, long b) {
        return b == 0 ? "-" : String.format("%.3f", (double) a / b);
    }
}
