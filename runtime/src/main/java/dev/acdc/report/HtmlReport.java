package dev.acdc.report;

import dev.acdc.AcdcException;
import dev.acdc.util.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A report as one self-contained HTML file: the summary and validation tables, and
 * charts (per-convolution relative error, parameters per convolution before and after, each set's
 * sensitivity per atom count, the fine-tuning curve) drawn by Chart.js, which is inlined — the file opens without a network.
 */
public final class HtmlReport {
    private HtmlReport() {
    }

    /** The compression report, its convs' errors and parameters and its fine-tuning curve charted. */
    public static String render(CompressReport r) {
        return render(MarkdownReport.render(r), r, r.finetune());
    }

    /** The report of {@code acdc finetune} / {@code acdc train} (its fine-tuning curve charted). */
    public static String render(TrainingReport r) {
        return render(MarkdownReport.render(r), null, r.run());
    }

    /** The report of {@code acdc quantize}. */
    public static String render(QuantizeReport r) {
        return render(MarkdownReport.render(r), null, null);
    }

    private static String render(String md, CompressReport r, FineTuneSection ft) {
        Map<String, Object> charts = new LinkedHashMap<>();
        List<Object> names = new ArrayList<>();
        List<Object> err = new ArrayList<>();
        List<Object> before = new ArrayList<>();
        List<Object> after = new ArrayList<>();
        List<Object> allNames = new ArrayList<>();
        List<Object> outNames = new ArrayList<>();
        List<Object> outSvd = new ArrayList<>();
        List<Object> outFit = new ArrayList<>();
        Map<String, Double> paramsAfter = r == null ? Map.of() : r.paramsAfter();
        for (CompressReport.Conv c : r == null ? List.<CompressReport.Conv>of() : r.convs()) {
            allNames.add(shortName(c.name()));
            before.add((double) c.denseParams());
            after.add(paramsAfter.get(c.name()));
            if (c.decomposed()) {
                names.add(shortName(c.name()));
                err.add(c.relError());
                if (c.outputError() != null) {
                    outNames.add(shortName(c.name()));
                    outSvd.add(c.outputErrorSvd());
                    outFit.add(c.outputError());
                }
            }
        }
        charts.put("errNames", names);
        charts.put("relError", err);
        charts.put("convNames", allNames);
        charts.put("outNames", outNames);
        charts.put("outputErrorSvd", outSvd);
        charts.put("outputError", outFit);
        charts.put("before", before);
        charts.put("after", after);
        SensitivitySection sens = r == null ? null : r.sensitivity();
        List<Object> sensSets = new ArrayList<>();
        List<Object> sensSeries = new ArrayList<>();
        if (sens != null) {
            for (SensitivitySection.SetCurve c : sens.sets()) {
                sensSets.add(shortName(c.set()));
            }
            for (String col : sens.columns()) {
                List<Object> agree = new ArrayList<>();
                for (SensitivitySection.SetCurve c : sens.sets()) {
                    SensitivitySection.Point p = c.at(col);
                    agree.add(p == null ? null : 100 * p.agreement());
                }
                sensSeries.add(Map.of("label", col.equals("dense") ? "dense" : col + " atom" + (col.equals("1") ? "" : "s"),
                        "data", agree));
            }
        }
        charts.put("sensSets", sensSets);
        charts.put("sensSeries", sensSeries);
        List<Object> epochs = new ArrayList<>();
        List<Object> loss = new ArrayList<>();
        List<Object> acc = new ArrayList<>();
        List<Object> sel = new ArrayList<>();
        for (FineTuneSection.Epoch e : ft == null ? List.<FineTuneSection.Epoch>of() : ft.epochs()) {
            epochs.add(e.epoch());
            loss.add(e.loss());
            acc.add(e.evalTop1() == null ? null : 100 * e.evalTop1());
            sel.add(e.selectTop1() == null ? null : 100 * e.selectTop1());
        }
        charts.put("selectTop1", sel);
        charts.put("epochs", epochs);
        charts.put("loss", loss);
        charts.put("evalTop1", acc);
        String data;
        try {
            data = Json.mapper().writeValueAsString(charts).replace("<", "\\u003c").replace("&", "\\u0026");
        } catch (IOException e) {
            throw AcdcException.internal("cannot encode the report's chart data: " + e.getMessage());
        }
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>acdc report</title>\n<style>\n")
                .append("body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}\n")
                .append("table{border-collapse:collapse;margin:8px 0 16px;display:block;max-width:100%;overflow-x:auto}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px}td code{white-space:nowrap}")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n")
                .append(".chart{position:relative;height:320px;margin:8px 0 28px}code{font-size:12px}\n")
                .append("</style></head><body>\n");
        sb.append(MarkdownHtml.toHtml(md, !epochs.isEmpty()));
        sb.append("<script>\n").append(chartJs()).append("\n</script>\n");
        sb.append("<script id=\"acdc-data\" type=\"application/json\">").append(data).append("</script>\n");
        sb.append("<script>\n").append(CHARTS).append("</script>\n</body></html>\n");
        return sb.toString();
    }

    private static String shortName(String n) {
        String s = n.endsWith("/Conv") ? n.substring(0, n.length() - 5) : n;
        return s.startsWith("/") ? s.substring(1) : s;
    }

    /** Chart.js's UMD bundle from its WebJar on the class path. */
    static String chartJs() {
        ClassLoader cl = HtmlReport.class.getClassLoader();
        String version;
        try (InputStream p = cl.getResourceAsStream("META-INF/maven/org.webjars.npm/chart.js/pom.properties")) {
            if (p == null) {
                throw AcdcException.internal("Chart.js is missing from the class path");
            }
            Properties props = new Properties();
            props.load(p);
            version = props.getProperty("version");
        } catch (IOException e) {
            throw AcdcException.internal("cannot read Chart.js: " + e.getMessage());
        }
        try (InputStream js = cl.getResourceAsStream("META-INF/resources/webjars/chart.js/" + version + "/dist/chart.umd.js")) {
            if (js == null) {
                throw AcdcException.internal("Chart.js " + version + " has no dist/chart.umd.js");
            }
            return new String(js.readAllBytes(), StandardCharsets.UTF_8).replace("</script", "<\\/script");
        } catch (IOException e) {
            throw AcdcException.internal("cannot read Chart.js: " + e.getMessage());
        }
    }

    private static final String CHARTS = """
            const d = JSON.parse(document.getElementById('acdc-data').textContent);
            Chart.defaults.animation = false;
            Chart.defaults.maintainAspectRatio = false;
            function draw(id, cfg) { const c = document.getElementById(id); if (c) new Chart(c, cfg); }
            draw('chart-error', {type: 'bar', data: {labels: d.errNames, datasets: [
              {label: 'relative weight error of the fit  ‖W − Ŵ‖ / ‖W‖', data: d.relError, backgroundColor: '#d9534f'}]},
              options: {scales: {y: {beginAtZero: true, suggestedMax: 1, title: {display: true, text: 'relative error'}}}}});
            draw('chart-output', {type: 'bar', data: {labels: d.outNames, datasets: [
              {label: 'output error, SVD fit', data: d.outputErrorSvd, backgroundColor: '#d9534f'},
              {label: 'output error, output fit', data: d.outputError, backgroundColor: '#2a7ab0'}]},
              options: {scales: {y: {beginAtZero: true, title: {display: true, text: '‖y − ŷ‖ / ‖y‖ on calibration images'}}}}});
            const palette = ['#d9534f', '#f0ad4e', '#e8d44d', '#5cb85c', '#2a7ab0', '#6f42c1', '#9aa5b1'];
            draw('chart-sensitivity', {type: 'line', data: {labels: d.sensSets, datasets: d.sensSeries.map((s, i) => (
              {label: s.label, data: s.data, borderColor: palette[i % palette.length],
               backgroundColor: palette[i % palette.length], showLine: false, pointRadius: 4}))},
              options: {plugins: {title: {display: true, text: 'top-1 agreement with the original, only that set compressed'}},
                scales: {y: {min: 0, max: 100, title: {display: true, text: 'agreement %'}}}}});
            draw('chart-params', {type: 'bar', data: {labels: d.convNames, datasets: [
              {label: 'parameters before', data: d.before, backgroundColor: '#9aa5b1'},
              {label: 'parameters after', data: d.after, backgroundColor: '#2a7ab0'}]},
              options: {scales: {y: {type: 'logarithmic', title: {display: true, text: 'parameters (log scale)'}}}}});
            draw('chart-curve', {type: 'line', data: {labels: d.epochs, datasets: [
              {label: 'mean training loss', data: d.loss, yAxisID: 'loss', borderColor: '#d9534f', backgroundColor: '#d9534f'},
              {label: 'selection-split top-1 (%), chooses the epoch', data: d.selectTop1, yAxisID: 'acc', borderColor: '#5cb85c', backgroundColor: '#5cb85c'},
              {label: 'eval top-1 (%), reported only', data: d.evalTop1, yAxisID: 'acc', borderColor: '#2a7ab0', backgroundColor: '#2a7ab0'}]},
              options: {scales: {x: {title: {display: true, text: 'epoch'}},
                loss: {type: 'linear', position: 'left', title: {display: true, text: 'loss'}},
                acc: {type: 'linear', position: 'right', grid: {drawOnChartArea: false}, title: {display: true, text: 'top-1 %'}}}}});
            """;
}
