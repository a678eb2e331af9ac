package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.decompose.Settings;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.calibration.CalibrationImages;
import dev.acdc.runtime.calibration.Sensitivity;
import dev.acdc.runtime.workflow.OutputGuard;
import dev.acdc.util.Json;
import dev.acdc.util.Table;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code acdc sensitivity}: how much each sharing set's compression costs the network's output. */
@Command(name = "sensitivity", mixinStandardHelpOptions = true,
        description = {"For each sharing set and each candidate atom count, compress only that set (SVD fit, every "
                + "other convolution dense, or with --in-context M every other set at M atoms) and measure the "
                + "network's output on calibration images: mean KL(original || compressed) of the softmax and top-1 "
                + "agreement with the original. The curves show where atoms matter; compress puts the same table "
                + "(without --in-context) in its report when given calibration data. compress --target-size "
                + "allocates by each conv's weight error instead, which ranked allocations better (docs/method.md)."})
final class SensitivityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options common;

    @Parameters(paramLabel = "MODEL.onnx", description = "The pretrained model.")
    Path model;

    @Setting(stage = Setting.Stage.DATA, level = Setting.Level.BASIC)
    @Option(names = "--calibration-data", paramLabel = "SPEC", required = true,
            description = "Images to measure on (any data spec; labels only stratify the sample).")
    String calibrationData;

    @Setting(stage = Setting.Stage.DATA)
    @Option(names = "--calibration-images", paramLabel = "N", defaultValue = "256",
            description = "A seeded, stratified sample of this many images (default ${DEFAULT-VALUE}).")
    int calibrationImages;

    @Setting(stage = Setting.Stage.DATA)
    @Option(names = "--calibration-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the sample (default ${DEFAULT-VALUE}).")
    long calibrationSeed;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--share", paramLabel = "SCOPE", defaultValue = "layer",
            description = "Sharing scope whose sets are measured (default ${DEFAULT-VALUE}).")
    String share;

    @Setting(stage = Setting.Stage.PLAN)
    @Option(names = "--group", paramLabel = "auto|N", defaultValue = "auto", description = "Channel-group size (default auto).")
    String group;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--candidates", paramLabel = "M,M,...", defaultValue = "1,2,3,4,6,9", split = ",",
            description = "Atom counts tried for 3x3 kernels (default ${DEFAULT-VALUE}; capped by each set's rank).")
    int[] candidates;

    @Setting(stage = Setting.Stage.PLAN, level = Setting.Level.BASIC)
    @Option(names = "--in-context", paramLabel = "M",
            description = "Measure each set with every other set at M atoms instead of dense: the network's error "
                    + "with that one set changed inside the compressed network, where errors compound.")
    Integer inContext;

    @Setting(stage = Setting.Stage.WRITE, level = Setting.Level.BASIC, recorded = false)
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the curves as JSON.")
    Path json;

    @Mixin
    DataOptions dataOptions;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        dev.acdc.runtime.workflow.CompressionJob.Calibration.checkImages(calibrationImages);
        for (int c : candidates) {
            if (c < 1) {
                throw new AcdcException("--candidates must be atom counts of 1 or more, got " + c);
            }
        }
        if (inContext != null && inContext < 1) {
            throw new AcdcException("--in-context must be an atom count of 1 or more, got " + inContext);
        }
        Settings settings = Settings.of(share, inContext == null ? null : inContext.toString(), group, null, null);
        new OutputGuard().reads(model).readsData(calibrationData).writes(json);
        err.println("acdc: loading " + model);
        dev.acdc.ir.Model m = OnnxModels.load(model);
        dev.acdc.data.Preprocessing pre = dataOptions.preprocessing();
        CalibrationImages images;
        try (dev.acdc.data.Dataset ds = dataOptions.open(calibrationData)) {
            images = CalibrationImages.sample(ds, pre, calibrationImages, calibrationSeed);
        }
        err.println("acdc: calibration images: " + images.subset().describe());
        List<Sensitivity.Curve> curves = Sensitivity.measure(m, settings, images, candidates, inContext != null,
                Interrupts.progress(err));
        out.print(render(curves, inContext));
        if (json != null) {
            Map<String, Object> j = toJson(curves, images, settings);
            if (inContext != null) {
                j.put("otherSetsAtoms", inContext);
            }
            Json.write(j, json);
            out.printf("wrote %s%n", json);
        }
        return 0;
    }

    /** The table: one row per set, KL and agreement per atom count. */
    static String render(List<Sensitivity.Curve> curves) {
        return render(curves, null);
    }

    /** The table; {@code context}: the other sets' atoms (null: dense), when the dense point is a column too. */
    static String render(List<Sensitivity.Curve> curves, Integer context) {
        List<Integer> cols = new ArrayList<>();
        for (Sensitivity.Curve c : curves) {
            for (Sensitivity.Point p : c.points()) {
                if (p.atoms() != Settings.DENSE && !cols.contains(p.atoms())) {
                    cols.add(p.atoms());
                }
            }
        }
        cols.sort(null);
        if (context != null) {
            cols.add(Settings.DENSE);
        }
        List<String> head = new ArrayList<>(List.of("set", "shape", "dense params"));
        for (int a : cols) {
            head.add((a == Settings.DENSE ? "dense" : "m=" + a) + " KL / agree");
        }
        Table t = new Table(head.toArray(new String[0])).leftAligned(0, 1);
        for (Sensitivity.Curve c : curves) {
            List<String> row = new ArrayList<>(List.of(c.set(), c.shape(), String.format("%,d", c.denseParams())));
            for (int a : cols) {
                Sensitivity.Point p = c.points().stream().filter(q -> q.atoms() == a).findFirst().orElse(null);
                row.add(p == null ? "-" : String.format(java.util.Locale.ROOT, "%.3f / %.0f %%", p.kl(), 100 * p.agreement()));
            }
            t.row((Object[]) row.toArray(new String[0]));
        }
        return "sensitivity: network output with " + (context == null ? "only that set compressed"
                : "that set so and every other set at " + context + " atoms") + " (SVD fit); KL(original || compressed), "
                + "top-1 agreement\n" + t;
    }

    static Map<String, Object> toJson(List<Sensitivity.Curve> curves, CalibrationImages images, Settings s) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("share", s.share().id());
        j.put("calibration", images.sample());
        List<Object> sets = new ArrayList<>();
        for (Sensitivity.Curve c : curves) {
            Map<String, Object> cj = new LinkedHashMap<>();
            cj.put("set", c.set());
            cj.put("shape", c.shape());
            cj.put("convs", c.convs());
            cj.put("denseParams", c.denseParams());
            List<Object> pts = new ArrayList<>();
            for (Sensitivity.Point p : c.points()) {
                Map<String, Object> pj = new LinkedHashMap<>();
                pj.put("atoms", p.atoms() == Settings.DENSE ? "dense" : p.atoms());
                pj.put("params", p.params());
                pj.put("kl", p.kl());
                pj.put("agreement", p.agreement());
                pts.add(pj);
            }
            cj.put("points", pts);
            sets.add(cj);
        }
        j.put("sets", sets);
        return j;
    }
}
