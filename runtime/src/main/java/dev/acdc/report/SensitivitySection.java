package dev.acdc.report;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-set sensitivity in a compression report: for each sharing set and each candidate atom count, the
 * network's output against the original on calibration images when only that set is compressed (SVD fit,
 * every other convolution dense): mean KL(original ‖ compressed) of the softmax and top-1 agreement. With
 * the count the run gave the set, so a reader sees what each set got against what it costs.
 */
public record SensitivitySection(CalibrationSample calibration, String fit, List<SetCurve> sets) {
    public SensitivitySection {
        sets = List.copyOf(sets);
    }

    /** One set: its shape, its dense parameters, the atoms the run gave it ("dense" or a count) and its points. */
    public record SetCurve(String set, String shape, long denseParams,
                           @JsonSerialize(using = CompressReport.DigitsAsNumber.class) String atomsUsed,
                           List<Point> points) {
        public SetCurve {
            points = List.copyOf(points);
        }

        /** The point at {@code atoms}, or null. */
        public Point at(String atoms) {
            return points.stream().filter(p -> p.atoms().equals(atoms)).findFirst().orElse(null);
        }
    }

    /** One measured point: atoms ("dense" or a count), the set's parameters, KL and agreement. */
    public record Point(@JsonSerialize(using = CompressReport.DigitsAsNumber.class) String atoms, long params,
                        double kl, double agreement) {
    }

    /** The atom counts measured, in increasing order, "dense" last. */
    public List<String> columns() {
        List<Integer> counts = new ArrayList<>();
        boolean dense = false;
        for (SetCurve s : sets) {
            for (Point p : s.points()) {
                if (p.atoms().matches("\\d+")) {
                    int a = Integer.parseInt(p.atoms());
                    if (!counts.contains(a)) {
                        counts.add(a);
                    }
                } else {
                    dense = true;
                }
            }
        }
        counts.sort(null);
        List<String> cols = new ArrayList<>(counts.stream().map(String::valueOf).toList());
        if (dense) {
            cols.add("dense");
        }
        return cols;
    }
}
