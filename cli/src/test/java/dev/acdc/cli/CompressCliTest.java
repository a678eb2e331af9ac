package dev.acdc.cli;

import dev.acdc.ir.Attribute;
import dev.acdc.ir.DataType;
import dev.acdc.ir.GraphBuilder;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.testing.SharedFiles;
import dev.acdc.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.acdc.cli.CliTest.assertOneLineError;
import static dev.acdc.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompressCliTest {
    @TempDir
    Path tmp;

    private Path tiny() {
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(ModelGenerators.residual(3, 8, 16, 5, 1), model, null);
        return model;
    }

    private List<Path> files() throws Exception {
        try (var s = Files.list(tmp)) {
            return s.sorted().toList();
        }
    }

    /** A write whose bytes change on the way to disk fails the run and leaves the previous output as it was. */
    /** --target-size and acdc sensitivity end to end on a small model, and their bad options. */
    @Test
    void targetSizeAllocatesAtomsAndSensitivityReportsCurves() throws Exception {
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(dev.acdc.testdata.TinyResNet.build(3), model, null);
        Path data = CliTest.cifar(tmp.resolve("calib.bin"), 40, 4);
        Path out = tmp.resolve("tiny.budget.onnx");
        CliTest.Run c = run("compress", model.toString(), "-o", out.toString(), "--fit", "svd", "--target-size", "0.5",
                "--calibration-data", "cifar10:" + data, "--calibration-images", "20");
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.size(out) <= 0.5 * Files.size(model), Files.size(out) + " of " + Files.size(model));
        // the plan: printed once, compactly (its summary and the --set-atoms line), and whole in the report
        assertTrue(c.out().contains("note: atom budget for --target-size 0.5") && c.out().contains("atom budget: by hand"),
                c.out());
        assertFalse(c.err().contains("atom budget: ") || c.out().contains("atom budget: tried"), c.err());
        String md = Files.readString(tmp.resolve("tiny.budget.report.md"));
        assertTrue(md.contains("atom budget: ") && md.contains("## Sensitivity"), md);
        Path json = tmp.resolve("sens.json");
        CliTest.Run s = run("sensitivity", model.toString(), "--calibration-data", "cifar10:" + data,
                "--calibration-images", "20", "--candidates", "1,4", "--json", json.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("m=1 KL / agree") && s.out().contains("m=4 KL / agree"), s.out());
        var j = Json.mapper().readTree(json.toFile());
        assertTrue(j.get("sets").size() > 0);
        assertEquals("dense", j.get("sets").get(0).get("points").get(2).get("atoms").asText());

        // the compress report's sensitivity: the same 20 images, so the same points as acdc sensitivity's,
        // each set marked with the atoms the budget gave it, charted in the HTML
        var report = Json.mapper().readTree(tmp.resolve("tiny.budget.report.json").toFile());
        var sens = report.get("sensitivity");
        assertEquals(20, sens.get("calibration").get("images").asInt(), sens.toString());
        assertEquals(j.get("sets").size(), sens.get("sets").size());
        java.util.Map<String, Integer> budgetAtoms = new java.util.HashMap<>();
        report.get("sets").forEach(e -> budgetAtoms.put(e.get("id").asText(), e.get("atoms").asInt()));
        for (int k = 0; k < sens.get("sets").size(); k++) {
            var rs = sens.get("sets").get(k);
            var cs = j.get("sets").get(k);
            assertEquals(cs.get("set").asText(), rs.get("set").asText());
            Integer used = budgetAtoms.get(rs.get("set").asText());
            assertEquals(used == null ? "dense" : used.toString(), rs.get("atomsUsed").asText(), rs.toString());
            for (var cp : cs.get("points")) {
                var rp = java.util.stream.StreamSupport.stream(rs.get("points").spliterator(), false)
                        .filter(p -> p.get("atoms").asText().equals(cp.get("atoms").asText())).findFirst().orElseThrow();
                assertEquals(cp.get("kl").asDouble(), rp.get("kl").asDouble(), 1e-12, rs.get("set").asText());
                assertEquals(cp.get("agreement").asDouble(), rp.get("agreement").asDouble(), 1e-12);
            }
        }
        String html = Files.readString(tmp.resolve("tiny.budget.report.html"));
        assertTrue(html.contains("<canvas id=\"chart-sensitivity\">"), "the chart's canvas");
        String chartJson = html.substring(html.indexOf("<script id=\"acdc-data\" type=\"application/json\">"));
        var charts = Json.mapper().readTree(chartJson.substring(chartJson.indexOf('>') + 1, chartJson.indexOf("</script>")));
        assertEquals(sens.get("sets").size(), charts.get("sensSets").size());
        java.util.Set<String> counts = new java.util.HashSet<>();
        sens.get("sets").forEach(e -> e.get("points").forEach(p -> counts.add(p.get("atoms").asText())));
        assertTrue(counts.contains("dense") && counts.size() >= 3, counts.toString());
        assertEquals(counts.size(), charts.get("sensSeries").size(), "one series per atom count: " + counts);
        CliTest.Run off = run("compress", model.toString(), "-o", tmp.resolve("off.onnx").toString(), "--fit", "svd",
                "--target-size", "0.5", "--calibration-data", "cifar10:" + data, "--calibration-images", "20",
                "--sensitivity-images", "0");
        assertEquals(0, off.code(), off.err());
        assertFalse(Files.readString(tmp.resolve("off.report.json")).contains("\"sensitivity\""));
        assertOneLineError(run("compress", model.toString(), "-o", tmp.resolve("x.onnx").toString(), "--fit", "output",
                "--calibration-data", "cifar10:" + data, "--sensitivity-images", "-1"), 2,
                "--sensitivity-images must be auto or a whole number of 0 or more");
        CliTest.Run ctx = run("sensitivity", model.toString(), "--calibration-data", "cifar10:" + data,
                "--calibration-images", "20", "--candidates", "1,4", "--in-context", "2");
        assertEquals(0, ctx.code(), ctx.err());
        assertTrue(ctx.out().contains("every other set at 2 atoms") && ctx.out().contains("dense KL / agree"), ctx.out());
        assertOneLineError(run("sensitivity", model.toString(), "--calibration-data", "cifar10:" + data,
                "--in-context", "0"), 2, "--in-context must be an atom count");
        assertOneLineError(run("compress", model.toString(), "-o", tmp.resolve("x.onnx").toString(), "--target-size", "1.5",
                "--calibration-data", "cifar10:" + data), 2, "--target-size must be a fraction");
        assertOneLineError(run("compress", model.toString(), "-o", tmp.resolve("x.onnx").toString(), "--target-size",
                "0.3"), 2, "--target-size needs calibration images");
        assertOneLineError(run("sensitivity", model.toString(), "--calibration-data", "cifar10:" + data, "--candidates",
                "0"), 2, "--candidates must be atom counts");
        assertFalse(Files.exists(tmp.resolve("x.onnx")));
    }

    /** A --target-size plan's "by hand" line rebuilds its allocation with --set-atoms; bad --set-atoms are refused. */
    @Test
    void setAtomsRebuildsABudgetByHand() throws Exception {
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(dev.acdc.testdata.TinyResNet.build(3), model, null);
        Path data = CliTest.cifar(tmp.resolve("calib.bin"), 40, 4);
        CliTest.Run planned = run("compress", model.toString(), "-o", tmp.resolve("plan.onnx").toString(), "--fit", "svd",
                "--target-size", "0.5", "--calibration-data", "cifar10:" + data, "--calibration-images", "20");
        assertEquals(0, planned.code(), planned.err());
        java.util.List<String> notes = new java.util.ArrayList<>();
        Json.mapper().readTree(tmp.resolve("plan.report.json").toFile()).get("notes").forEach(n -> notes.add(n.asText()));
        String line = notes.stream().filter(l -> l.startsWith("atom budget: by hand: ")).findFirst()
                .orElseThrow(() -> new AssertionError(notes.toString()));
        assertTrue(planned.out().contains("note: " + line), "the console says how to rebuild it: " + planned.out());
        String[] byHand = line.substring("atom budget: by hand: ".length()).split(" ", 2);
        // every allocation tried can be rebuilt so, the kept one with the options of the last line
        java.util.List<String> tried = notes.stream().filter(l -> l.startsWith("atom budget: tried ")).toList();
        assertFalse(tried.isEmpty(), planned.err());
        assertTrue(tried.stream().allMatch(l -> l.contains("; by hand: --")), tried.toString());
        assertTrue(tried.stream().anyMatch(l -> l.contains("(kept); by hand: " + byHand[0] + " " + byHand[1])),
                tried.toString());
        CliTest.Run hand = run("compress", model.toString(), "-o", tmp.resolve("hand.onnx").toString(), byHand[0],
                byHand[1]);
        assertEquals(0, hand.code(), hand.err());
        var a = Json.mapper().readTree(tmp.resolve("plan.report.json").toFile()).get("sets");
        var b = Json.mapper().readTree(tmp.resolve("hand.report.json").toFile()).get("sets");
        assertEquals(a.size(), b.size(), line);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("id").asText(), b.get(i).get("id").asText());
            assertEquals(a.get(i).get("atoms").asInt(), b.get(i).get("atoms").asInt(), a.get(i).get("id").asText());
        }
        // by hand: the first set dense, the second at 1 atom, the rest at --atoms 2
        assertEquals(0, run("compress", model.toString(), "-o", tmp.resolve("all.onnx").toString()).code());
        var all = Json.mapper().readTree(tmp.resolve("all.report.json").toFile()).get("sets");
        if (all.size() < 3) {
            throw new AssertionError("the tiny ResNet has at least three sets: " + all);
        }
        String first = all.get(0).get("id").asText();
        String second = all.get(1).get("id").asText();
        CliTest.Run edited = run("compress", model.toString(), "-o", tmp.resolve("edited.onnx").toString(), "--atoms", "2",
                "--set-atoms", first + "=dense," + second + "=1");
        assertEquals(0, edited.code(), edited.err());
        var e = Json.mapper().readTree(tmp.resolve("edited.report.json").toFile()).get("sets");
        assertEquals(all.size() - 1, e.size());
        assertEquals(second, e.get(0).get("id").asText());
        assertEquals(1, e.get(0).get("atoms").asInt());
        for (int i = 1; i < e.size(); i++) {
            assertEquals(2, e.get(i).get("atoms").asInt(), e.get(i).toString());
        }
        String x = tmp.resolve("x.onnx").toString();
        assertOneLineError(run("compress", model.toString(), "-o", x, "--set-atoms", "nosuch=3"), 2,
                "--set-atoms: the model has no sharing set nosuch under --share=layer; its sets are " + first + ", " + second);
        assertOneLineError(run("compress", model.toString(), "-o", x, "--set-atoms", first + "=0"), 2,
                "--set-atoms " + first + " must be at least 1");
        assertOneLineError(run("compress", model.toString(), "-o", x, "--set-atoms", first), 2, "is not SET=M");
        assertOneLineError(run("compress", model.toString(), "-o", x, "--set-atoms", first + "=2," + first + "=3"), 2,
                "names set " + first + " twice");
        assertOneLineError(run("compress", model.toString(), "-o", x, "--set-atoms", first + "=2", "--target-size", "0.5",
                "--calibration-data", "cifar10:" + data), 2, "--set-atoms and --target-size both choose");
        assertOneLineError(run("compress", model.toString(), "-o", x, "--set-atoms", first + "=2", "--target-drop", "5",
                "--calibration-data", "cifar10:" + data), 2, "--set-atoms and --target-drop both choose");
        assertFalse(Files.exists(tmp.resolve("x.onnx")));
    }

    /**
     * --target-size with the output fit, alone and with a fine-tune in both BatchNormalization modes: the
     * written file, fine-tune record and (training mode) the folded per-conv scales included, is at most the
     * target and within 2 % of it.
     */
    @Test
    void targetSizeHoldsAfterAFineTune() throws Exception {
        Path dir = CliTest.testdata();
        Path model = dir.resolve("fmnist-resnet14.onnx");
        String train = CliTest.fmnistTrain();
        long target = (long) Math.floor(0.3 * Files.size(model));
        for (String bn : new String[] {"none", "folded", "train"}) {
            Path out = tmp.resolve("ft-" + bn + ".onnx");
            List<String> args = new java.util.ArrayList<>(List.of("compress", model.toString(), "-o", out.toString(),
                    "--target-size", "0.3", "--calibration-images", "64", "--fit-iterations", "1",
                    "--sensitivity-images", "0"));
            // none: the output fit alone (its biases and metadata must not add bytes the plan did not count)
            args.addAll(bn.equals("none") ? List.of("--calibration-data", train)
                    : List.of("--train-data", train, "--epochs", "1", "--max-steps", "2", "--batch-norm", bn));
            CliTest.Run r = run(args.toArray(new String[0]));
            assertEquals(0, r.code(), r.err());
            long bytes = Files.size(out);
            assertEquals(!bn.equals("none"), OnnxModels.load(out).metadata().containsKey("acdc.finetuned"));
            assertTrue(bytes <= target && bytes >= 0.98 * target, bn + ": " + bytes + " bytes for a target of "
                    + target);
        }
    }

    /**
     * A model with its weights in an external data file, run from another working directory: every
     * command that opens it in ONNX Runtime (compress's probe, validate, bench --vs) finds the data in
     * the model's folder.
     */
    @Test
    void externalDataIsFoundFromAnyWorkingDirectory() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("elsewhere"));
        Path model = dev.acdc.onnx.ExternalDataFiles.write(ModelGenerators.residual(3, 8, 16, 5, 3),
                dir.resolve("ext.onnx"), "ext.weights", true);
        assertFalse(Path.of("").toAbsolutePath().equals(dir), "the test runs from another folder");
        Path out = tmp.resolve("ext.acdc.onnx");
        CliTest.Run c = run("compress", model.toString(), "-o", out.toString(), "--group", "8");
        assertEquals(0, c.code(), c.err());
        CliTest.Run b = run("bench", out.toString(), "--vs", model.toString(), "--batch-sizes", "2", "--runs", "2",
                "--warmup-runs", "1");
        assertEquals(0, b.code(), b.err());
    }

    @Test
    void outputThatDoesNotReadBackFailsAndWritesNothing() throws Exception {
        Path model = tiny();
        Path out = tmp.resolve("tiny.acdc.onnx");
        Files.writeString(out, "previous output");
        try {
            // flip one weight: the file still parses, but its outputs differ from the model in memory
            dev.acdc.util.AtomicFiles.tamperForTest(bytes -> {
                Model m = OnnxModels.fromBytes(bytes, null);
                String a = dev.acdc.decompose.WeightRoles.of(m).entrySet().stream()
                        .filter(e -> e.getValue() == dev.acdc.decompose.WeightRoles.Role.ATOMS).findFirst()
                        .orElseThrow().getKey();
                float[] v = m.graph().initializer(a).floats();
                v[0] += 1;
                m.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats(a, m.graph().initializer(a).shape(), v));
                return OnnxModels.toBytes(m);
            });
            CliTest.Run r = run("compress", model.toString(), "--group", "8", "-o", out.toString());
            assertOneLineError(r, 1, "the written file does not reproduce the model in memory");
            assertTrue(r.err().contains("nothing was written"), r.err());
            assertEquals("previous output", Files.readString(out));
            // truncated on the way: does not even read back
            dev.acdc.util.AtomicFiles.tamperForTest(bytes -> java.util.Arrays.copyOf(bytes, bytes.length / 2));
            r = run("compress", model.toString(), "--group", "8", "-o", out.toString());
            assertOneLineError(r, 1, "the written file does not read back");
            assertEquals("previous output", Files.readString(out));
        } finally {
            dev.acdc.util.AtomicFiles.tamperForTest(null);
        }
        assertEquals(List.of(out, model), files(), "no temporary file left");
        CliTest.Run ok = run("compress", model.toString(), "--group", "8", "-o", out.toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.err().contains("reloaded the written file in ONNX Runtime"), ok.err());
    }

    /** Markdown and self-contained HTML reports beside the JSON, with the JSON's figures. */
    @Test
    void markdownAndHtmlReportsCarryTheJsonFigures() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        // a conv name with markup in it must come out escaped
        m.graph().nodes().stream().filter(n -> n.is("Conv")).toList().get(1).setName("block<b>&\"conv1");
        Path model = tmp.resolve("tiny.onnx");
        OnnxModels.save(m, model, null);
        Path out = tmp.resolve("tiny.acdc.onnx");
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        var j = Json.mapper().readTree(tmp.resolve("tiny.acdc.report.json").toFile());
        String md = Files.readString(tmp.resolve("tiny.acdc.report.md"));
        String html = Files.readString(tmp.resolve("tiny.acdc.report.html"));
        assertTrue(md.contains(String.format("| params | %,d | %,d |", j.get("input").get("params").asLong(),
                j.get("output").get("params").asLong())), md);
        assertTrue(md.contains(String.format("| %.4f |", j.get("convs").get(1).get("relError").asDouble())), md);
        assertTrue(md.contains("16×16×3×3"), md);
        for (String id : new String[] {"chart-error", "chart-params"}) {
            assertTrue(html.contains("<canvas id=\"" + id + "\">"), id);
        }
        assertFalse(html.contains("<canvas id=\"chart-curve\">"), "no fine-tuning, no curve");
        assertFalse(html.contains("<script src"), "nothing loaded from elsewhere");
        assertTrue(html.contains("Chart.register") || html.contains("Chart.js v4"), "Chart.js is inlined");
        assertTrue(html.contains("block&lt;b&gt;&amp;&quot;conv1"), "names are escaped");
        assertFalse(html.contains("block<b>"), "names are escaped");
        int dataAt = html.indexOf("<script id=\"acdc-data\" type=\"application/json\">");
        String data = html.substring(dataAt, html.indexOf("</script>", dataAt)).replaceFirst("^<script[^>]*>", "");
        var charts = Json.mapper().readTree(data);
        assertEquals(j.get("convs").get(1).get("relError").asDouble(), charts.get("relError").get(0).asDouble(), 1e-12);
    }

    /** --calibration-data: the output fit runs, and the console, JSON, Markdown and HTML reports show it. */
    @Test
    void outputFitIsReportedEverywhere() throws Exception {
        Path model = tmp.resolve("gray.onnx");
        OnnxModels.save(ModelGenerators.residual(1, 8, 16, 5, 2), model, null);
        Path images = tmp.resolve("calib-images.idx");
        Path labels = tmp.resolve("calib-labels.idx");
        dev.acdc.data.IdxWriter.writeSubset(new dev.acdc.data.SyntheticDataset(60, 1, 8, 8, 5, 3), 60, images, labels);
        Path out = tmp.resolve("gray.acdc.onnx");
        // no output may land on a data file the run reads
        byte[] imageBytes = Files.readAllBytes(images);
        assertOneLineError(run("compress", model.toString(), "--group", "8", "-o", images.toString(),
                "--calibration-data", "idx:" + images + "," + labels), 2, "refusing to overwrite " + images);
        assertOneLineError(run("compress", model.toString(), "--group", "8", "--report", labels.toString(),
                "--calibration-data", "idx:" + images + "," + labels), 2, "refusing to overwrite " + labels);
        assertOneLineError(run("compress", model.toString(), "--group", "8", "--report", images.toString(),
                "--eval-data", "idx:" + images + "," + labels), 2, "refusing to overwrite " + images);
        assertArrayEquals(imageBytes, Files.readAllBytes(images), "the data file is untouched");
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "--atoms", "2", "-o", out.toString(),
                "--calibration-data", "idx:" + images + "," + labels, "--calibration-images", "40");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("calibration images: 40 images, stratified over 5 classes ("), r.err());
        assertTrue(r.err().contains("output fit: top-1 agreement with the original on the 40 calibration images"), r.err());
        assertTrue(r.out().contains("weight err") && r.out().contains("output err"), r.out());
        CliTest.Run wide = run("compress", model.toString(), "--group", "8", "--atoms", "2", "-o",
                tmp.resolve("wide.onnx").toString(), "--calibration-data", "idx:" + images + "," + labels,
                "--calibration-images", "40", "--wide");
        assertTrue(wide.out().contains("output err svd") && wide.out().contains("output err fit"), wide.out());
        var j = Json.mapper().readTree(tmp.resolve("gray.acdc.report.json").toFile());
        assertEquals("output", j.get("settings").get("fit").asText());
        assertEquals(40, j.get("outputFit").get("calibration").get("images").asInt());
        var conv = j.get("convs").get(1);
        assertTrue(conv.get("decomposed").asBoolean());
        assertTrue(conv.get("outputError").asDouble() <= conv.get("outputErrorSvd").asDouble(), conv.toString());
        String md = Files.readString(tmp.resolve("gray.acdc.report.md"));
        assertTrue(md.contains("## Output fit"), md);
        assertTrue(md.contains(String.format("| %.4f | %.4f |", conv.get("outputErrorSvd").asDouble(),
                conv.get("outputError").asDouble())), md);
        String html = Files.readString(tmp.resolve("gray.acdc.report.html"));
        assertTrue(html.contains("<canvas id=\"chart-output\">"), "output-error chart");
        // the output errors the fit lowers come before the weight errors it may raise, each chart once
        assertTrue(html.indexOf("<canvas id=\"chart-output\">") < html.indexOf("<canvas id=\"chart-error\">"), html);
        assertEquals(html.indexOf("<canvas id=\"chart-output\">"), html.lastIndexOf("<canvas id=\"chart-output\">"));
        assertEquals("output", OnnxModels.load(out).metadata().get("acdc.fit"));
        if (python("import onnx") == 0) {
            assertEquals(0, python("import onnx; onnx.checker.check_model(onnx.load('" + out + "'), full_check=True)"),
                    "onnx.checker rejects the output-fitted model");
        }
        // without calibration data the default stays the SVD fit, and says so
        r = run("compress", model.toString(), "--group", "8", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("svd", Json.mapper().readTree(tmp.resolve("gray.acdc.report.json").toFile())
                .get("settings").get("fit").asText());
    }

    /**
     * --target-drop on the demo model (a real Fashion-MNIST ResNet-14): the size searched meets the predicted
     * drop, the measured one is reported beside it, a goal no size meets writes nothing and exits 1, and the
     * options it excludes or needs are one-line errors.
     */
    @Test
    void targetDropSearchesTheSmallestSizeThatMeetsIt() throws Exception {
        Path model = CliTest.testdata().resolve("fmnist-resnet14.onnx");
        Path dir = CliTest.testdata();
        String eval = "idx:" + dir.resolve("fmnist-test2k-images-idx3-ubyte.gz") + ","
                + dir.resolve("fmnist-test2k-labels-idx1-ubyte.gz");
        Path out = tmp.resolve("drop.onnx");
        CliTest.Run r = run("compress", model.toString(), "-o", out.toString(), "--fit", "svd", "--target-drop", "5",
                "--calibration-data", CliTest.fmnistTrain(), "--calibration-images", "64", "--sensitivity-images", "0",
                "--eval-data", eval, "--limit", "500");
        var j = Json.mapper().readTree(tmp.resolve("drop.report.json").toFile());
        String notes = j.get("notes").toString();
        java.util.regex.Matcher pred = java.util.regex.Pattern.compile("--target-drop 5.00: predicted (-?[0-9.]+) points "
                + "on the calibration images, measured (-?[0-9.]+) on the evaluation data").matcher(notes);
        assertTrue(pred.find(), notes);
        double measured = Double.parseDouble(pred.group(2));
        assertTrue(Double.parseDouble(pred.group(1)) <= 5, notes);
        // measured on the evaluation data: exit 1 exactly when it is over the goal, the model written either way
        assertEquals(measured <= 5 ? 0 : 1, r.code(), r.err());
        assertEquals(measured, j.get("validation").get("drop").asDouble(), 0.01, j.get("validation").toString());
        assertTrue(Files.size(out) < Files.size(model), "smaller than the input");
        assertTrue(notes.contains("target drop: tried ") && notes.contains("the smallest size tried whose predicted drop"),
                notes);
        assertTrue(r.err().contains("acdc: target drop: trying 0.8000 of the input's bytes"), r.err());

        // the images without their labels: the prediction is the share that disagrees with the original, and
        // SVD-only even 0.8 of the bytes disagrees on some of 512, so a drop of 0 is out of reach: it stops
        // there (the highest size is tried first) and writes nothing
        Path none = tmp.resolve("none.onnx");
        CliTest.Run z = run("compress", model.toString(), "-o", none.toString(), "--fit", "svd", "--target-drop", "0",
                "--calibration-data", "idx:" + dir.resolve("fmnist-train5k-images-idx3-ubyte.gz"),
                "--sensitivity-images", "0");
        assertOneLineError(z, 1, "--target-drop 0.00: even at 80 % of the input's bytes the predicted drop");
        assertFalse(Files.exists(none));

        String[] base = {"compress", model.toString(), "-o", tmp.resolve("x.onnx").toString()};
        assertOneLineError(run(concat(base, "--target-drop", "2")), 2, "--target-drop needs calibration images");
        assertOneLineError(run(concat(base, "--target-drop", "101", "--calibration-data", CliTest.fmnistTrain())), 2,
                "--target-drop must be between 0 and 100 points");
        assertOneLineError(run(concat(base, "--target-drop", "2", "--target-size", "0.3", "--calibration-data",
                CliTest.fmnistTrain())), 2, "--target-drop and --target-size both choose the size");
        assertFalse(Files.exists(tmp.resolve("x.onnx")));
    }

    private static String[] concat(String[] a, String... b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** A model that is not smaller, or not measured, or that agrees on few images, is called out. */
    @Test
    void uselessOrLargerOutputsAreCalledOut() throws Exception {
        Path model = tiny();
        Path out = tmp.resolve("big.onnx");
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "--atoms", "100", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("warning: the output (" + Files.size(out) + " bytes) is not smaller than the input ("
                + Files.size(model) + " bytes)"), r.out());
        assertTrue(r.out().contains("warning: fitted to the weights alone and not validated"), r.out());
        // --strict: the same settings are an error, found before anything is written, and nothing is
        Path strict = tmp.resolve("strict.onnx");
        assertOneLineError(run("compress", model.toString(), "--group", "8", "--atoms", "100", "-o", strict.toString(),
                "--strict"), 1, "--strict: the compressed model (");
        assertFalse(Files.exists(strict));
        assertFalse(Files.exists(tmp.resolve("strict.report.json")));
        var j = Json.mapper().readTree(tmp.resolve("big.report.json").toFile());
        assertTrue(j.get("verdict").asText().startsWith("not validated: accuracy unknown"), j.get("verdict").asText());
        assertTrue(j.get("notes").toString().contains("is not smaller than the input"), j.get("notes").toString());
        assertTrue(Files.readString(tmp.resolve("big.report.md")).contains("**Verdict:** not validated"));
        // measured: the verdict gives the drop, and low agreement is a warning exactly when it is low
        Path gray = tmp.resolve("gray.onnx");
        OnnxModels.save(ModelGenerators.residual(1, 8, 16, 5, 2), gray, null);
        Path images = tmp.resolve("eval-images.idx");
        Path labels = tmp.resolve("eval-labels.idx");
        dev.acdc.data.IdxWriter.writeSubset(new dev.acdc.data.SyntheticDataset(50, 1, 8, 8, 5, 4), 50, images, labels);
        r = run("compress", gray.toString(), "--group", "8", "--atoms", "1", "-o", tmp.resolve("g.onnx").toString(),
                "--eval-data", "idx:" + images + "," + labels);
        assertEquals(0, r.code(), r.err());
        j = Json.mapper().readTree(tmp.resolve("g.report.json").toFile());
        double drop = 100 * (j.get("validation").get("original").get("top1").asDouble()
                - j.get("validation").get("candidate").get("top1").asDouble());
        assertTrue(j.get("verdict").asText().startsWith(String.format("top-1 %+.1f points, ", -drop)), j.get("verdict").asText());
        boolean low = j.get("validation").get("agreement").asDouble() < 0.5;
        assertEquals(low, r.out().contains("warning: the compressed model agrees with the original on only"), r.out());
        assertFalse(r.out().contains("fitted to the weights alone and not validated"), r.out());
        // the accuracy gate, on labels that are the original's own predictions (its top-1 is 100 %, so
        // the drop is 100 − the compressed model's agreement): exit 1, model written, when the drop
        // exceeds --max-drop; exit 0 when it does not
        dev.acdc.data.SyntheticDataset syn = new dev.acdc.data.SyntheticDataset(50, 1, 8, 8, 5, 4);
        byte[] px = new byte[50 * 64];
        syn.read(0, 50, px, new int[50]);
        float[] x = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            x[i] = (px[i] & 0xff) / 255f;
        }
        float[] logits = dev.acdc.testing.Ort.run(Files.readAllBytes(gray), x, new long[] {50, 1, 8, 8});
        byte[] own = new byte[8 + 50];
        java.nio.ByteBuffer.wrap(own).putInt(0x00000801).putInt(50);
        for (int i = 0; i < 50; i++) {
            int best = 0;
            for (int k = 1; k < 5; k++) {
                best = logits[i * 5 + k] > logits[i * 5 + best] ? k : best;
            }
            own[8 + i] = (byte) best;
        }
        Path ownLabels = Files.write(tmp.resolve("own-labels.idx"), own);
        String eval = "idx:" + images + "," + ownLabels;
        Path gated = tmp.resolve("gated.onnx");
        r = run("compress", gray.toString(), "--group", "8", "--atoms", "1", "-o", gated.toString(), "--eval-data", eval,
                "--max-drop", "100");
        assertEquals(0, r.code(), r.err());
        j = Json.mapper().readTree(tmp.resolve("gated.report.json").toFile());
        double ownDrop = 100 * (j.get("validation").get("original").get("top1").asDouble()
                - j.get("validation").get("candidate").get("top1").asDouble());
        assertTrue(ownDrop >= 2, "one atom loses some of the original's own predictions: " + ownDrop);
        Files.delete(gated);
        r = run("compress", gray.toString(), "--group", "8", "--atoms", "1", "-o", gated.toString(), "--eval-data",
                eval, "--max-drop", String.valueOf(ownDrop - 1));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("more than --max-drop") && Files.exists(gated), r.err());
        assertOneLineError(run("compress", gray.toString(), "--max-drop", "2"), 2, "--max-drop needs --eval-data");
        assertOneLineError(run("compress", gray.toString(), "--max-drop", "NaN", "--eval-data", eval), 2,
                "--max-drop must be between 0 and 100 points, got NaN");
    }

    @Test
    void nonFiniteWeightsNeedAllowNonfinite() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        String conv = m.graph().nodes().stream().filter(n -> n.is("Conv")).toList().get(2).input(1);
        float[] w = m.graph().initializer(conv).floats();
        w[0] = Float.NaN;
        m.graph().putInitializer(dev.acdc.ir.Tensor.ofFloats(conv, m.graph().initializer(conv).shape(), w));
        Path model = tmp.resolve("nan.onnx");
        OnnxModels.save(m, model, null);
        Path out = tmp.resolve("nan.acdc.onnx");
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "-o", out.toString());
        assertOneLineError(r, 2, "weights hold non-finite values: '" + conv + "' (1 NaN of ");
        assertFalse(Files.exists(out));
        CliTest.Run inspect = run("inspect", model.toString());
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("warning      non-finite weights: '" + conv + "'"), inspect.out());
        r = run("compress", model.toString(), "--group", "8", "--allow-nonfinite", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("weight holds NaN or Inf"), r.out());
        // at full rank the written model must compute the original: where the original outputs NaN, NaN is its output
        Path exact = tmp.resolve("nan.full.onnx");
        r = run("compress", model.toString(), "--group", "8", "--atoms", "9", "--allow-nonfinite", "-o", exact.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("max |logit diff| 0.00 "), r.out());
    }

    @Test
    void compressWritesModelAndReport() throws Exception {
        Path model = SharedFiles.model("resnet20-cifar10.onnx");
        Path out = tmp.resolve("r20.acdc.onnx");
        CliTest.Run r = run("compress", model.toString(), "--share", "layer", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("spatial conv weights kept: 12.8 %"), r.out());
        Path report = tmp.resolve("r20.acdc.report.json");
        var j = Json.mapper().readTree(report.toFile());
        for (String k : new String[] {"input", "output", "settings", "convs", "sets", "timings"}) {
            assertTrue(j.has(k), k);
        }
        assertEquals(Files.size(out), j.get("output").get("bytes").asLong());
        assertEquals(Files.size(model), j.get("input").get("bytes").asLong());
        assertEquals("layer", j.get("settings").get("share").asText());
        assertEquals(16, j.get("settings").get("group").asInt());
        assertEquals(19, j.get("convs").size());
        assertFalse(j.get("convs").get(0).get("decomposed").asBoolean());
        assertTrue(j.get("convs").get(1).get("relError").asDouble() > 0);
        assertEquals(18, j.get("sets").size());
        assertEquals(6, j.get("sets").get(0).get("atoms").asInt());
        // the written file is a model acdc (and ONNX Runtime, in the verify step) can read back
        Model back = OnnxModels.load(out);
        assertEquals("layer", back.metadata().get("acdc.share"));
    }

    /** Where Debian's python3-onnx is installed, its checker (with shape inference) accepts both forms. */
    @Test
    void onnxCheckerAcceptsBothForms() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(python("import onnx") == 0,
                "skipped: python3 with the onnx package (Debian python3-onnx) is not installed");
        Path model = SharedFiles.model("resnet20-cifar10.onnx");
        for (String form : new String[] {"reconstruct", "factorized"}) {
            Path out = tmp.resolve(form + ".onnx");
            assertEquals(0, run("compress", model.toString(), "--share", "stage", "--form", form, "-o", out.toString()).code());
            assertEquals(0, python("import onnx; onnx.checker.check_model(onnx.load('" + out + "'), full_check=True)"),
                    "onnx.checker rejects the " + form + " form");
        }
    }

    static int python(String code) throws Exception {
        Path py = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(py)) {
            return -1;
        }
        Process p = new ProcessBuilder(py.toString(), "-c", code).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor();
    }

    @Test
    void defaultOutputNameSitsBesideTheModel() throws Exception {
        Path model = tiny();
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "--atoms", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(tmp.resolve("tiny.acdc.onnx")));
        assertTrue(Files.exists(tmp.resolve("tiny.acdc.report.json")));
    }

    /**
     * An audio-shaped model with two inputs: [N, 400] samples (not an image) reshaped to a 16×25 map, and a gain
     * [1] beside them. inspect needs no --input-shape, and compress runs its probe with the gain at ones: both
     * models see the same inputs, and at full rank they agree.
     */
    @Test
    void aModelWithTwoInputsAndANonImageFirstInputCompresses() throws Exception {
        java.util.Random r = new java.util.Random(4);
        GraphBuilder b = GraphBuilder.create("audio");
        String x = b.input("samples", DataType.FLOAT, -1, 400);
        String gain = b.input("gain", DataType.FLOAT, 1);
        String map = b.op("Reshape", "as_map", x, b.initializer("map_shape", new long[] {4}, new long[] {0, 1, 16, 25}));
        String y = b.op("Mul", "scale", map, gain);
        String w1 = b.initializer("c1.weight", new long[] {16, 1, 3, 3}, ModelGenerators.randn(r, 144, 0.5));
        y = b.op("Relu", "r1", b.conv("c1", y, w1, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        String w2 = b.initializer("c2.weight", new long[] {16, 16, 3, 3}, ModelGenerators.randn(r, 16 * 144, 0.1));
        y = b.op("Relu", "r2", b.conv("c2", y, w2, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        y = b.op("Flatten", "flat", List.of(b.op("GlobalAveragePool", "pool", y)), Attribute.ofInt("axis", 1));
        String fw = b.initializer("fc.weight", new long[] {5, 16}, ModelGenerators.randn(r, 80, 0.3));
        y = b.op("Gemm", "fc", List.of(y, fw), Attribute.ofInt("transB", 1));
        b.output(y, DataType.FLOAT, -1, 5);
        Path model = tmp.resolve("audio.onnx");
        OnnxModels.save(Model.of(b.graph(), 13), model, null);
        CliTest.Run i = run("inspect", model.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("2 spatial"), i.out());
        Path out = tmp.resolve("audio.full.onnx");
        CliTest.Run c = run("compress", model.toString(), "--group", "16", "--atoms", "9", "-o", out.toString());
        assertEquals(0, c.code(), c.err());
        var v = Json.mapper().readTree(tmp.resolve("audio.full.report.json").toFile()).get("verification");
        assertTrue(v.get("maxAbsDiff").asDouble() <= 1e-4 * Math.max(1, v.get("outputScale").asDouble()), v.toString());
        assertEquals(2, OnnxModels.load(out).graph().dataInputs().size(), "both inputs kept");
    }

    /**
     * A crafted node name (a newline, a fake "wrote" line, a clear-screen escape, table syntax) is printed escaped
     * on the console and in the Markdown and HTML reports: it cannot break a line, fake output or drive a terminal.
     */
    @Test
    void aControlCharacterInANodeNameIsEscapedEverywhereItIsShown() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        String evil = "conv\nwrote /tmp/x.onnx\u001b[2J|`";
        var nodes = m.graph().nodes();
        for (int i = 0; i < nodes.size(); i++) {
            var n = nodes.get(i);
            if (n.label().equals("block_conv1")) {
                nodes.set(i, new dev.acdc.ir.Node(evil, n.opType(), n.inputs(), n.outputs(),
                        List.copyOf(n.attributes().values())));
            }
        }
        Path model = tmp.resolve("evil.onnx");
        OnnxModels.save(m, model, null);
        CliTest.Run r = run("compress", model.toString(), "--group", "8", "--atoms", "4");
        assertEquals(0, r.code(), r.err());
        String all = r.out() + r.err();
        assertTrue(all.contains("conv\\u000awrote /tmp/x.onnx\\u001b[2J"), all);
        assertFalse(all.contains("\u001b"), "no raw escape on the console");
        assertFalse(all.contains("\nwrote /tmp/x.onnx"), "no faked line");
        for (String ext : List.of(".md", ".html")) {
            String page = Files.readString(tmp.resolve("evil.acdc.report" + ext));
            assertFalse(page.contains("\u001b"), ext + ": no raw escape");
            assertFalse(page.contains("\nwrote /tmp/x.onnx"), ext + ": no faked line");
            assertTrue(page.contains("conv\\u000awrote /tmp/x.onnx\\u001b[2J"), ext);
        }
    }

    /**
     * A model whose input leaves H and W open (a detector exported for any size): counted and probed at 224×224,
     * which inspect and compress say, never at 1×1 (MACs 50 000× too low, a probe that proves nothing).
     */
    @Test
    void anOpenHeightAndWidthAreSizedAndSaidSo() throws Exception {
        Model open = ModelGenerators.residual(3, 8, 16, 5, 1);
        open.graph().inputs().set(0, new dev.acdc.ir.ValueInfo("input", DataType.FLOAT, List.of(
                dev.acdc.ir.ValueInfo.Dim.symbol("N"), dev.acdc.ir.ValueInfo.Dim.of(3), dev.acdc.ir.ValueInfo.Dim.symbol("H"),
                dev.acdc.ir.ValueInfo.Dim.symbol("W")), null));
        Path model = tmp.resolve("open.onnx");
        OnnxModels.save(open, model, null);
        Model fixed = ModelGenerators.residual(3, 224, 16, 5, 1);
        long macsAt224 = dev.acdc.inspect.ModelSummary.of(fixed, null, 0).macs();
        var s = dev.acdc.inspect.ModelSummary.of(OnnxModels.load(model), null, 0);
        assertArrayEquals(new long[] {1, 3, 224, 224}, s.inputShape());
        assertEquals(macsAt224, s.macs());
        CliTest.Run i = run("inspect", model.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("[1, 3, 224, 224] (the model's input leaves H, W open: counted and probed at 224"),
                i.out());
        CliTest.Run c = run("compress", model.toString(), "--group", "8", "--atoms", "4");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.err().contains("probe batch [2, 3, 224, 224]") && c.err().contains("leaves H, W open"), c.err());
        // bench times such a model at the size the user gives, as every command that runs a model takes it
        assertOneLineError(run("bench", model.toString(), "--batch-sizes", "1", "--runs", "1"), 2,
                "give --input-shape N,C,H,W");
        CliTest.Run b = run("bench", model.toString(), "--input-shape", "1,3,32,32", "--batch-sizes", "2", "--runs", "2",
                "--warmup-runs", "0");
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().lines().anyMatch(l -> l.trim().startsWith("2 ")), b.out());
    }

    /** A data spec that names a folder, and an empty -o, are named as what they are; nothing is written. */
    @Test
    void aFolderAsADataFileAndAnEmptyOutputAreNamed() throws Exception {
        Path model = tiny();
        Path folder = Files.createDirectory(tmp.resolve("images"));
        for (String kind : List.of("cifar10:", "idx:")) {
            assertOneLineError(run("compress", model.toString(), "--calibration-data", kind + folder), 2,
                    folder + " is a folder, not a data file (a folder of images is read as folder:DIR)");
        }
        assertOneLineError(run("compress", model.toString(), "-o", ""), 2, "the output name is empty");
        assertEquals(List.of(folder, model), files(), "nothing written");
    }

    /**
     * A detector-like model with two outputs, scores [N, 16, 2] per anchor and boxes [N, 16, 4]: both compared,
     * the scores' argmax over their class axis (every anchor agrees at full rank), where the whole-row argmax
     * said 0 % or compared only the first output.
     */
    @Test
    void everyOutputOfADetectorIsCompared() throws Exception {
        java.util.Random r = new java.util.Random(6);
        GraphBuilder b = GraphBuilder.create("detector");
        String x = b.input("input", DataType.FLOAT, -1, 3, 8, 8);
        String w0 = b.initializer("stem.weight", new long[] {16, 3, 3, 3}, ModelGenerators.randn(r, 432, 0.3));
        String h = b.op("Relu", "stem_relu", b.conv("stem", x, w0, null, 1, new long[] {2, 2}, new long[] {1, 1, 1, 1}));
        String w1 = b.initializer("body.weight", new long[] {16, 16, 3, 3}, ModelGenerators.randn(r, 2304, 0.1));
        h = b.op("Relu", "body_relu", b.conv("body", h, w1, null, 1, new long[] {1, 1}, new long[] {1, 1, 1, 1}));
        String ws = b.initializer("score.weight", new long[] {2, 16, 1, 1}, ModelGenerators.randn(r, 32, 0.3));
        String wb = b.initializer("box.weight", new long[] {4, 16, 1, 1}, ModelGenerators.randn(r, 64, 0.3));
        String perm = "perm";
        String scores = b.op("Transpose", "scores_t", List.of(b.op("Reshape", "scores_r",
                b.conv("score", h, ws, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0}),
                b.initializer("s_shape", new long[] {3}, new long[] {0, 2, 16}))), Attribute.ofInts(perm, 0, 2, 1));
        String boxes = b.op("Transpose", "boxes_t", List.of(b.op("Reshape", "boxes_r",
                b.conv("box", h, wb, null, 1, new long[] {1, 1}, new long[] {0, 0, 0, 0}),
                b.initializer("b_shape", new long[] {3}, new long[] {0, 4, 16}))), Attribute.ofInts(perm, 0, 2, 1));
        b.output(scores, DataType.FLOAT, -1, 16, 2);
        b.output(boxes, DataType.FLOAT, -1, 16, 4);
        Path model = tmp.resolve("det.onnx");
        OnnxModels.save(Model.of(b.graph(), 13), model, null);
        CliTest.Run c = run("compress", model.toString(), "--group", "16", "--atoms", "9");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("2 output(s) compared"), c.out());
        assertTrue(c.out().contains("[2, 16, 2]: max |diff|") && c.out().contains("argmax agreement 100.0 % over axis 2"),
                c.out());
        assertTrue(c.out().contains("[2, 16, 4]: max |diff|"), c.out());
        assertFalse(c.out().contains("top-1 agreement 0 %"), c.out());
        // the verdict names the outputs: the worst by relative difference, the lowest argmax agreement
        String verdict = c.out().lines().filter(l -> l.startsWith("verdict")).findFirst().orElseThrow();
        assertTrue(verdict.contains("probe (random input): 2 outputs, worst '") && verdict.contains("% of its scale")
                && verdict.contains("lowest argmax agreement '" + scores + "'"), verdict);
        var j = dev.acdc.util.Json.mapper().readTree(tmp.resolve("det.acdc.report.json").toFile());
        assertEquals(2, j.get("verification").get("outputs").size(), j.toString());
        assertEquals(boxes, j.get("verification").get("outputs").get(1).get("name").asText());
        String md = java.nio.file.Files.readString(tmp.resolve("det.acdc.report.md"));
        assertTrue(md.contains("## Outputs") && md.contains("| `" + boxes + "` | [2, 16, 4] |"), md);
        // quantize names them the same way
        CliTest.Run q = run("quantize", model.toString(), "--mode", "int8-weights");
        assertEquals(0, q.code(), q.err());
        assertTrue(q.out().contains("probe (random input): 2 outputs"), q.out());
    }

    /**
     * A float16 model (weights FLOAT16; inputs and outputs FLOAT16, or FLOAT with Casts as keep_io_types writes them)
     * compresses: widened to float32 for the fit, exact at full rank to float16's precision in ONNX Runtime, and
     * written back with FLOAT16 weights and the input's interface.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aFloat16ModelCompressesAndIsWrittenBackInFloat16(boolean keepIoTypes) throws Exception {
        Model m = ModelGenerators.asFloat16(ModelGenerators.residual(3, 8, 16, 5, 1), keepIoTypes);
        Path model = tmp.resolve("fp16.onnx");
        OnnxModels.save(m, model, null);
        Path out = tmp.resolve("fp16.acdc.onnx");
        CliTest.Run r = run("compress", model.toString(), "--group", "16", "--atoms", "9", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the model is float16: widened to float32"), r.err());
        Model written = OnnxModels.load(out);
        dev.acdc.ir.DataType io = keepIoTypes ? dev.acdc.ir.DataType.FLOAT : dev.acdc.ir.DataType.FLOAT16;
        assertEquals(io, written.graph().inputs().get(0).elemType());
        assertEquals(io, written.graph().outputs().get(0).elemType());
        assertTrue(written.graph().initializers().values().stream().noneMatch(t -> t.type() == dev.acdc.ir.DataType.FLOAT),
                "no float32 weight is left");
        assertTrue(written.graph().initializers().values().stream().anyMatch(t -> t.type() == dev.acdc.ir.DataType.FLOAT16
                && t.rank() == 2), "atoms and coefficients in float16");
        // the oracle: ONNX Runtime runs both files on the same input; full rank differs by float16 rounding only
        float[] x = dev.acdc.runtime.Probe.randomInput(new long[] {2, 3, 8, 8}, 3);
        float[] a = dev.acdc.testing.Ort.run(Files.readAllBytes(model), x, new long[] {2, 3, 8, 8});
        float[] b = dev.acdc.testing.Ort.run(Files.readAllBytes(out), x, new long[] {2, 3, 8, 8});
        double max = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        assertTrue(max <= 1e-2 * scale, max + " of " + scale);
        assertTrue(Files.size(out) < Files.size(model) * 1.6, "half the bytes of float32 factors");
        // quantize keeps the interface too: int8 weights computed in float32 behind Casts to the model's types
        Path q = tmp.resolve("fp16.q.onnx");
        r = run("quantize", model.toString(), "--mode", "int8-weights", "-o", q.toString());
        assertEquals(0, r.code(), r.err());
        Model quantized = OnnxModels.load(q);
        assertEquals(io, quantized.graph().inputs().get(0).elemType());
        assertEquals(io, quantized.graph().outputs().get(0).elemType());
        float[] c = dev.acdc.testing.Ort.run(Files.readAllBytes(q), x, new long[] {2, 3, 8, 8});
        assertEquals(a.length, c.length);
        if (!keepIoTypes) {
            // fine-tuned from the float16 teacher (run by ONNX Runtime as it is), written back in float16
            Path train = CliTest.cifar(tmp.resolve("train.bin"), 32, 32);
            Path teacher = tmp.resolve("fp16-32.onnx");
            OnnxModels.save(ModelGenerators.asFloat16(ModelGenerators.residual(3, 32, 16, 10, 2), false), teacher, null);
            Path ft = tmp.resolve("fp16.ft.onnx");
            r = run("compress", teacher.toString(), "--train-data", "cifar10:" + train, "--epochs", "1", "--batch", "16",
                    "--calibration-images", "16", "-o", ft.toString());
            assertEquals(0, r.code(), r.err());
            Model tuned = OnnxModels.load(ft);
            assertEquals(dev.acdc.ir.DataType.FLOAT16, tuned.graph().inputs().get(0).elemType());
            assertTrue(tuned.graph().initializers().values().stream().noneMatch(t -> t.type() == dev.acdc.ir.DataType.FLOAT));
        }
    }

    /** A model that declares no output: every command names it and says what to do, exit 2. */
    @Test
    void aModelWithNoOutputsIsNamed() throws Exception {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 1);
        m.graph().outputs().clear();
        Path model = tmp.resolve("noout.onnx");
        OnnxModels.save(m, model, null);
        for (String cmd : new String[] {"inspect", "compress", "quantize"}) {
            assertOneLineError(run(cmd, model.toString()), 2, "the model declares no graph output");
        }
        assertEquals(List.of(model), files(), "nothing written");
    }

    @Test
    void noSpatialConvolutionExitsTwo() throws Exception {
        GraphBuilder b = GraphBuilder.create("fc");
        String x = b.input("x", DataType.FLOAT, -1, 4);
        String w = b.initializer("w", new long[] {3, 4}, new float[12]);
        String y = b.op("Gemm", "fc", List.of(x, w), Attribute.ofInt("transB", 1));
        b.output(y, DataType.FLOAT, -1, 3);
        Path model = tmp.resolve("fc.onnx");
        OnnxModels.save(Model.of(b.graph(), 13), model, null);
        assertOneLineError(run("compress", model.toString()), 2, "no 1-D or 2-D convolution to decompose");
        assertOneLineError(run("compress", model.toString()), 2, "acdc quantize --mode int8-weights");
        assertEquals(List.of(model), files(), "nothing written");
    }

    @Test
    void badOptionsWriteNothing() throws Exception {
        Path model = tiny();
        assertOneLineError(run("compress", model.toString(), "--atoms", "0"), 2, "--atoms must be at least 1");
        assertOneLineError(run("compress", model.toString(), "--share", "galaxy"), 2, "unknown sharing scope 'galaxy'");
        assertOneLineError(run("compress", model.toString(), "--form", "zip"), 2, "unknown export form");
        assertOneLineError(run("compress", model.toString(), "--group", "x"), 2, "--group must be a number");
        assertOneLineError(run("compress", model.toString(), "-o", tmp.resolve("missing/out.onnx").toString()), 2,
                "output folder does not exist");
        assertOneLineError(run("compress", model.toString(), "-o", model.toString()), 2, "refusing to overwrite");
        assertOneLineError(run("compress", model.toString(), "--fit", "output"), 2,
                "--fit output needs calibration images: give --calibration-data SPEC");
        assertOneLineError(run("compress", model.toString(), "--fit", "magic"), 2, "--fit must be svd or output");
        assertOneLineError(run("compress", model.toString(), "--calibration-data", "idx:x.gz", "--calibration-images",
                "0"), 2, "--calibration-images must be at least 1");
        assertOneLineError(run("compress", model.toString(), "--calibration-data", "idx:missing-calib.gz"), 2,
                "missing-calib.gz");
        assertOneLineError(run("compress", model.toString(), "--calibration-data", "idx:x.gz", "--fit-target", "z"),
                2, "--fit-target must be sum or conv");
        // train and finetune check their outputs the same way: a report named like an input is refused too
        byte[] before = Files.readAllBytes(model);
        assertOneLineError(run("train", model.toString(), "--train-data", "idx:none.gz", "--report", model.toString()),
                2, "refusing to overwrite");
        assertOneLineError(run("finetune", model.toString(), "--teacher", model.toString(), "--train-data",
                "idx:none.gz", "-o", tmp.resolve("out.onnx").toString(), "--report", model.toString()), 2,
                "refusing to overwrite");
        assertArrayEquals(before, Files.readAllBytes(model), "the input is untouched");
        assertEquals(List.of(model), files(), "nothing written");
    }

    @Test
    void corruptModelWritesNothing() throws Exception {
        Path bad = Files.write(tmp.resolve("bad.onnx"), new byte[] {8, 7, 18, 3, 1});
        assertOneLineError(run("compress", bad.toString()), 2, "bad.onnx");
        assertEquals(List.of(bad), files());
    }

    /** Full rank must be exact: a probe that disagrees stops the write; a lossy fit may differ. */
    @Test
    void anExactFitThatDisagreesInOnnxRuntimeIsNotWritten() {
        dev.acdc.ir.Model m = ModelGenerators.residual(3, 8, 16, 5, 2);
        dev.acdc.decompose.Compressor.Result full = dev.acdc.decompose.Compressor.compress(m,
                dev.acdc.decompose.Settings.of("layer", "9", "64", null, null), s -> { });
        dev.acdc.runtime.Probe.Comparison agrees = new dev.acdc.runtime.Probe.Comparison(new long[] {2, 3, 8, 8}, 1e-6,
                1e-7, 3, 1, null, null);
        dev.acdc.runtime.Probe.Comparison differs = new dev.acdc.runtime.Probe.Comparison(new long[] {2, 3, 8, 8}, 0.5,
                0.1, 3, 0.5, null, null);
        dev.acdc.runtime.workflow.CompressionJob.requireExactWhereItShouldBe(full, true, agrees);
        dev.acdc.AcdcException e = org.junit.jupiter.api.Assertions.assertThrows(dev.acdc.AcdcException.class,
                () -> dev.acdc.runtime.workflow.CompressionJob.requireExactWhereItShouldBe(full, true, differs));
        assertTrue(e.getMessage().contains("the export does not compute the original; nothing written"), e.getMessage());
        // trained or output-fitted weights are not expected to be exact
        dev.acdc.runtime.workflow.CompressionJob.requireExactWhereItShouldBe(full, false, differs);
        dev.acdc.ir.Model m2 = ModelGenerators.residual(3, 8, 16, 5, 2);
        dev.acdc.decompose.Compressor.Result lossy = dev.acdc.decompose.Compressor.compress(m2,
                dev.acdc.decompose.Settings.of("layer", "2", "8", null, null), s -> { });
        dev.acdc.runtime.workflow.CompressionJob.requireExactWhereItShouldBe(lossy, true, differs);
    }

    /** A compressed file says acdc wrote it, from what, and how it was fitted. */
    @Test
    void theOutputSaysWhoWroteItAndFromWhat() throws Exception {
        Path model = tiny();
        dev.acdc.ir.Model in = OnnxModels.load(model);
        Path out = tmp.resolve("said.onnx");
        assertEquals(0, run("compress", model.toString(), "-o", out.toString()).code());
        dev.acdc.ir.Model m = OnnxModels.load(out);
        assertEquals("acdc", m.producerName());
        assertFalse(m.producerVersion().isEmpty());
        assertEquals((in.producerName() + " " + in.producerVersion()).trim(), m.metadata().get("acdc.source_producer"));
        assertEquals("svd", m.metadata().get("acdc.fit"));
        assertTrue(m.metadata().containsKey(dev.acdc.decompose.WeightRoles.KEY));
    }
}
