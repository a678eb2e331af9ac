package dev.acdc.util;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with right-aligned numeric columns, for terminal reports. */
public final class Table {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    private final boolean[] left;

    public Table(String... header) {
        this.header = List.of(header);
        this.left = new boolean[header.length];
        left[0] = true;
    }

    /** Marks columns (besides the first) as left-aligned text. */
    public Table leftAligned(int... cols) {
        for (int c : cols) {
            left[c] = true;
        }
        return this;
    }

    public Table row(Object... cells) {
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(Text.printable(String.valueOf(c)));
        }
        rows.add(r);
        return this;
    }

    public Table separator() {
        rows.add(null);
        return this;
    }

    @Override
    public String toString() {
        int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = header.get(i).length();
        }
        for (List<String> r : rows) {
            if (r != null) {
                for (int i = 0; i < r.size() && i < w.length; i++) {
                    w[i] = Math.max(w[i], r.get(i).length());
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, header, w);
        rule(sb, w);
        for (List<String> r : rows) {
            if (r == null) {
                rule(sb, w);
            } else {
                line(sb, r, w);
            }
        }
        return sb.toString();
    }

    private void line(StringBuilder sb, List<String> cells, int[] w) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            String c = i < cells.size() ? cells.get(i) : "";
            String pad = " ".repeat(w[i] - c.length());
            l.append(i == 0 ? "" : "  ").append(left[i] ? c + pad : pad + c);
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }

    private static void rule(StringBuilder sb, int[] w) {
        int total = 0;
        for (int x : w) {
            total += x;
        }
        sb.append("-".repeat(total + 2 * (w.length - 1))).append('\n');
    }

    /** 11689512 → "11.69 M"; small numbers stay exact. */
    public static String human(long n) {
        if (Math.abs(n) < 10_000) {
            return Long.toString(n);
        }
        if (Math.abs(n) < 10_000_000) {
            return String.format("%.1f k", n / 1e3);
        }
        if (Math.abs(n) < 10_000_000_000L) {
            return String.format("%.2f M", n / 1e6);
        }
        return String.format("%.2f G", n / 1e9);
    }

    /** Bytes with a binary unit. */
    public static String bytes(long b) {
        if (b < 10 * 1024) {
            return b + " B";
        }
        if (b < 10L * 1024 * 1024) {
            return String.format("%.1f KiB", b / 1024.0);
        }
        return String.format("%.2f MiB", b / (1024.0 * 1024));
    }
}
