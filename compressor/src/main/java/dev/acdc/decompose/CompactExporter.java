package dev.acdc.decompose;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.Graph;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.ir.Tensor;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a decomposition into the model with standard ONNX ops (opset ≥ 13):
 * <ul>
 * <li>{@code reconstruct}: {@code MatMul(α, atoms)} → Reshape [go,gi,nbo,nbi,kh,kw] → Transpose
 * [nbo,go,nbi,gi,kh,kw] → Reshape [O,I/G,kh,kw] → the original Conv (a ConvTranspose's [I,O/G,kh,kw]: the
 * same chain over its kernel's own layout). All inputs are initializers, so
 * runtimes fold it at load: same speed as the original, compact file.</li>
 * <li>{@code factorized}: a per-input-channel atom Conv (group = I, I·nbo·m outputs), a channel
 * reorder (i,bo,j) → (bo,i,j) when nbo &gt; 1, then a 1×1 coefficient Conv with group = nbo.
 * Used for group-1 convolutions with known output size; others (and every ConvTranspose) fall back to
 * reconstruct, with a note. A pointwise set's conv becomes two 1×1 convs, coefficients then atoms.</li>
 * </ul>
 * Each set's α is stored once ({@code acdc/<set>/coefficients}), each conv's atoms under
 * {@code acdc/<conv>/atoms}.
 */
public final class CompactExporter {
    /**
     * The prefix of the values acdc adds for a conv or a sharing set: {@code acdc/NAME}, without the doubled
     * slash an exporter's leading one would make ({@code /layer1/conv1/Conv} → {@code acdc/layer1/conv1/Conv}).
     */
    public static String scope(String owner) {
        return "acdc/" + owner.replaceFirst("^/+", "");
    }

    private CompactExporter() {
    }

    /** Rewrites {@code m} in place; returns notes (e.g. convs that fell back to reconstruct). */
    public static List<String> export(Model m, Decomposition d, ExportForm form) {
        Graph g = m.graph();
        List<String> notes = new ArrayList<>();
        Set<String> writtenSets = new HashSet<>();
        java.util.Map<String, WeightRoles.Role> roles = new java.util.LinkedHashMap<>();
        for (ConvPlan cp : d.plan().decomposed()) {
            SharingSet s = d.plan().set(cp.setId());
            float[] alpha = d.coefficients(s.id());
            int mAtoms = alpha.length / (s.go * s.gi);
            String alphaName = scope(s.id()) + "/coefficients";
            if (writtenSets.add(s.id())) {
                g.putInitializer(Tensor.ofFloats(alphaName, new long[] {(long) s.go * s.gi, mAtoms}, alpha));
            }
            boolean factorize = form == ExportForm.FACTORIZED;
            if (factorize && cp.node().is("ConvTranspose")) {
                notes.add(cp.name() + ": transposed convolution exported in reconstruct form");
                factorize = false;
            }
            if (factorize && cp.oneD()) {
                notes.add(cp.name() + ": 1-D convolution exported in reconstruct form");
                factorize = false;
            }
            if (factorize && cp.group() != 1) {
                notes.add(cp.name() + ": grouped convolution exported in reconstruct form");
                factorize = false;
            }
            if (factorize && !s.pointwise() && cp.nbo() > 1 && (cp.outShape[1] < 0 || cp.outShape[2] < 0)) {
                notes.add(cp.name() + ": output size unknown, exported in reconstruct form");
                factorize = false;
            }
            float[] bias = d.bias(cp);
            if (bias != null) {
                // the fitted bias replaces the conv's own where no other node reads it: same name, same bytes
                // as the SVD fit's file (a size plan made with the SVD fit stays exact); else a new tensor
                String own = cp.node().inputs().size() > 2 ? cp.node().inputs().get(2) : "";
                boolean reuse = !own.isEmpty() && g.initializer(own) != null && g.consumers(own).size() == 1;
                String biasName = reuse ? own : scope(cp.name()) + "/bias";
                g.putInitializer(Tensor.ofFloats(biasName, new long[] {bias.length}, bias));
                cp.node().setOrAddInput(2, biasName);
            }
            if (factorize && s.pointwise()) {
                pointwiseFactorized(g, d, cp, alphaName, mAtoms);
            } else if (factorize) {
                factorized(g, d, cp, s, alphaName, mAtoms);
            } else {
                reconstruct(g, d, cp, s, alphaName, mAtoms);
            }
            roles.put(alphaName, WeightRoles.Role.COEFFICIENTS);
            roles.put(scope(cp.name()) + "/atoms", WeightRoles.Role.ATOMS);
        }
        g.removeUnusedInitializers();
        WeightRoles.record(m, roles);
        return notes;
    }

    private static void reconstruct(Graph g, Decomposition d, ConvPlan cp, SharingSet s, String alphaName, int mAtoms) {
        Node conv = cp.node();
        int k = s.kh * s.kw;
        GraphBuilder b = new GraphBuilder(g).insertingAt(g.nodes().indexOf(conv));
        String base = scope(cp.name());
        String atoms = base + "/atoms";
        g.putInitializer(Tensor.ofFloats(atoms, new long[] {mAtoms, (long) cp.blocks() * k}, d.atoms(cp)));
        String shape6 = b.initializer(base + "/block_shape", new long[] {6},
                new long[] {s.go, s.gi, cp.nbo(), cp.nbi(), s.kh, s.kw});
        String shape4 = b.initializer(base + "/kernel_shape", new long[] {cp.kernel().length}, cp.kernel());
        String prod = b.op("MatMul", base + "/blocks", alphaName, atoms);
        String r6 = b.op("Reshape", base + "/split", prod, shape6);
        String t6 = b.op("Transpose", base + "/interleave", List.of(r6), Attribute.ofInts("perm", 2, 0, 3, 1, 4, 5));
        String kernel = b.op("Reshape", base + "/kernel", t6, shape4);
        conv.setInput(1, kernel);
    }

    private static void factorized(Graph g, Decomposition d, ConvPlan cp, SharingSet s, String alphaName, int mAtoms) {
        Node conv = cp.node();
        int k = s.kh * s.kw;
        long in = cp.inPerGroup;
        int nbo = cp.nbo();
        int nbi = cp.nbi();
        GraphBuilder b = new GraphBuilder(g).insertingAt(g.nodes().indexOf(conv));
        String base = scope(cp.name());
        String atoms = base + "/atoms";
        g.putInitializer(Tensor.ofFloats(atoms, new long[] {mAtoms, (long) cp.blocks() * k}, d.atoms(cp)));
        // atom conv weight [I·nbo·m, 1, kh, kw]: channel (i, bo, j) holds atom j of block (bo, i / gi);
        // built in the graph from the stored atoms, so the file keeps only m × S·k values
        String a4 = b.op("Reshape", base + "/atoms_split", atoms,
                b.initializer(base + "/atoms_split_shape", new long[] {4}, new long[] {mAtoms, nbo, nbi, k}));
        String at = b.op("Transpose", base + "/atoms_order", List.of(a4), Attribute.ofInts("perm", 2, 1, 0, 3));
        String a5 = b.op("Reshape", base + "/atoms_lift", at,
                b.initializer(base + "/atoms_lift_shape", new long[] {5}, new long[] {nbi, 1, nbo, mAtoms, k}));
        String tiled = b.op("Tile", base + "/atoms_per_channel", a5,
                b.initializer(base + "/atoms_repeats", new long[] {5}, new long[] {1, s.gi, 1, 1, 1}));
        String aw = b.op("Reshape", base + "/atom_kernel", tiled,
                b.initializer(base + "/atom_kernel_shape", new long[] {4}, new long[] {in * nbo * mAtoms, 1, s.kh, s.kw}));
        List<Attribute> attrs = new ArrayList<>();
        for (Attribute a : conv.attributes().values()) {
            if (!a.name().equals("group") && !a.name().equals("kernel_shape")) {
                attrs.add(a);
            }
        }
        attrs.add(Attribute.ofInt("group", in));
        String z = b.op("Conv", base + "/atom_conv", List.of(conv.input(0), aw), attrs.toArray(new Attribute[0]));
        if (nbo > 1) {
            String r = b.op("Reshape", base + "/split", z,
                    b.initializer(base + "/split_shape", new long[] {4}, new long[] {0, in, nbo, -1}));
            String t = b.op("Transpose", base + "/reorder", List.of(r), Attribute.ofInts("perm", 0, 2, 1, 3));
            z = b.op("Reshape", base + "/merge", t, b.initializer(base + "/merge_shape", new long[] {4},
                    new long[] {0, nbo * in * mAtoms, cp.outShape[1], cp.outShape[2]}));
        }
        // coefficient conv weight [O, I·m, 1, 1], group nbo: output (bo, o') reads (i, j) of its group
        // with weight α[o'·gi + i mod gi, j] — α tiled nbo × nbi times in the graph, stored once
        String c5 = b.op("Reshape", base + "/coefficients_lift", alphaName,
                b.initializer(base + "/coefficients_lift_shape", new long[] {5}, new long[] {1, s.go, 1, s.gi, mAtoms}));
        String ct = b.op("Tile", base + "/coefficients_per_block", c5,
                b.initializer(base + "/coefficients_repeats", new long[] {5}, new long[] {nbo, 1, nbi, 1, 1}));
        String cw = b.op("Reshape", base + "/coefficient_kernel", ct,
                b.initializer(base + "/coefficient_kernel_shape", new long[] {4}, new long[] {cp.out, in * mAtoms, 1, 1}));
        List<String> ins = new ArrayList<>(List.of(z, cw));
        if (conv.inputs().size() > 2 && !conv.input(2).isEmpty()) {
            ins.add(conv.input(2));
        }
        conv.setInputs(ins);
        for (String a : new ArrayList<>(conv.attributes().keySet())) {
            conv.removeAttribute(a);
        }
        conv.setAttribute(Attribute.ofInt("group", nbo));
        conv.setAttribute(Attribute.ofInts("kernel_shape", 1, 1));
    }

    /**
     * A pointwise conv W ≈ atomsᵀ·αᵀ as two 1×1 convs: {@code Conv(x, αᵀ as [m, I, 1, 1])} with the conv's own
     * strides and pads, then the conv itself reading the m channels with weight atomsᵀ [O, m, 1, 1] and its bias.
     * Both weights are built in the graph from the stored factors (folded at load).
     */
    private static void pointwiseFactorized(Graph g, Decomposition d, ConvPlan cp, String alphaName, int mAtoms) {
        Node conv = cp.node();
        GraphBuilder b = new GraphBuilder(g).insertingAt(g.nodes().indexOf(conv));
        String base = scope(cp.name());
        String atoms = base + "/atoms";
        g.putInitializer(Tensor.ofFloats(atoms, new long[] {mAtoms, cp.out}, d.atoms(cp)));
        String ct = b.op("Transpose", base + "/coefficients_t", List.of(alphaName), Attribute.ofInts("perm", 1, 0));
        String cw = b.op("Reshape", base + "/coefficient_kernel", ct,
                b.initializer(base + "/coefficient_kernel_shape", new long[] {4}, new long[] {mAtoms, cp.inPerGroup, 1, 1}));
        List<Attribute> attrs = new ArrayList<>();
        for (Attribute a : conv.attributes().values()) {
            if (!a.name().equals("group") && !a.name().equals("kernel_shape")) {
                attrs.add(a);
            }
        }
        String z = b.op("Conv", base + "/coefficient_conv", List.of(conv.input(0), cw), attrs.toArray(new Attribute[0]));
        String at = b.op("Transpose", base + "/atoms_t", List.of(atoms), Attribute.ofInts("perm", 1, 0));
        String aw = b.op("Reshape", base + "/atom_kernel", at,
                b.initializer(base + "/atom_kernel_shape", new long[] {4}, new long[] {cp.out, mAtoms, 1, 1}));
        List<String> ins = new ArrayList<>(List.of(z, aw));
        if (conv.inputs().size() > 2 && !conv.input(2).isEmpty()) {
            ins.add(conv.input(2));
        }
        conv.setInputs(ins);
        for (String a : new ArrayList<>(conv.attributes().keySet())) {
            conv.removeAttribute(a);
        }
        conv.setAttribute(Attribute.ofInts("kernel_shape", 1, 1));
    }

    /** Multiply-adds of one conv in factorized form at its output size: atom conv + 1×1 conv. */
    public static long factorizedMacs(ConvPlan cp, int mAtoms) {
        long hw = Math.max(1, cp.outShape[1]) * Math.max(1, cp.outShape[2]);
        if (!cp.spatial()) {
            return (cp.inPerGroup + cp.out) * mAtoms * hw;
        }
        long atomConv = cp.inPerGroup * cp.nbo() * mAtoms * cp.kh * cp.kw * hw;
        long coefConv = cp.out * cp.inPerGroup * mAtoms * hw;
        return atomConv + coefConv;
    }
}
