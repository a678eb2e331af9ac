package dev.acdc.report;

/**
 * Turns the Markdown that {@link MarkdownReport} writes (headings, pipe tables, paragraphs, inline code,
 * bold) into HTML, escaping everything read from the model, and places the chart canvases in their
 * sections. Not a general Markdown renderer: it only has to read what acdc writes.
 */
final class MarkdownHtml {
    private MarkdownHtml() {
    }

    static String toHtml(String md, boolean curve) {
        boolean stages = md.contains("\n## Stages\n");
        boolean outputFit = md.contains("\n## Output fit\n");
        StringBuilder out = new StringBuilder();
        String[] lines = md.split("\n", -1);
        boolean inTable = false;
        int row = 0;
        for (String line : lines) {
            if (line.startsWith("|")) {
                if (!inTable) {
                    out.append("<table>\n");
                    inTable = true;
                    row = 0;
                }
                if (line.matches("\\|[-:| ]+\\|")) {
                    continue;
                }
                String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
                out.append("<tr>");
                for (String c : cells) {
                    String t = c.trim();
                    String tag = row == 0 ? "th" : "td";
                    boolean num = row > 0 && t.matches("[-+]?[0-9][0-9,.]*( %| pts| s)?( \\*)?");
                    out.append('<').append(tag).append(num ? " class=\"n\"" : "").append('>').append(inline(t))
                            .append("</").append(tag).append('>');
                }
                out.append("</tr>\n");
                row++;
                continue;
            }
            if (inTable) {
                out.append("</table>\n");
                inTable = false;
            }
            if (line.startsWith("# ")) {
                out.append("<h1>").append(inline(line.substring(2))).append("</h1>\n");
            } else if (line.startsWith("## ")) {
                String h = line.substring(3);
                out.append("<h2>").append(inline(h)).append("</h2>\n");
                // outcomes first: the fine-tuning curve with the stages when the report has them, and after an
                // output fit the output errors (which it lowers) before the weight errors (which it may raise)
                if (h.equals("Stages") && curve) {
                    out.append(chart("chart-curve"));
                } else if (h.equals("Convolutions")) {
                    out.append(outputFit ? chart("chart-output") : "").append(chart("chart-params"))
                            .append(chart("chart-error"));
                } else if (h.equals("Sensitivity")) {
                    out.append(chart("chart-sensitivity"));
                } else if (h.equals("Fine-tuning") && curve && !stages) {
                    out.append(chart("chart-curve"));
                }
            } else if (!line.isBlank()) {
                out.append("<p>").append(inline(line.endsWith("  ") ? line.strip() : line)).append("</p>\n");
            }
        }
        if (inTable) {
            out.append("</table>\n");
        }
        return out.toString();
    }

    private static String chart(String id) {
        return "<div class=\"chart\"><canvas id=\"" + id + "\"></canvas></div>\n";
    }

    /** Escapes HTML, then renders `code`, **bold** and _emphasis_. */
    static String inline(String s) {
        String e = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
        e = e.replaceAll("`([^`]*)`", "<code>$1</code>");
        e = e.replaceAll("\\*\\*([^*]+)\\*\\*", "<b>$1</b>");
        return e.replaceAll("(^|\\s)_([^_]+)_", "$1<i>$2</i>");
    }
}
