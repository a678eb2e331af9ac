package dev.acdc.runtime.calibration;

import dev.acdc.AcdcException;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.data.Sampling;

import dev.acdc.report.CalibrationSample;
import dev.acdc.report.PreprocessingInfo;

/**
 * The preprocessed calibration images the output fit runs on: a seeded, class-stratified sample
 * (labels are only used to stratify; they are never fitted to), held in memory as model inputs;
 * {@code labels} (null when the data have none) let {@code --target-drop} predict a top-1 drop.
 */
public record CalibrationImages(float[] x, int count, long[] sampleShape, String source, Sampling.Subset subset,
                                long seed, Preprocessing preprocessing, int[] labels) {

    /** At most this many input values (1 GB of floats) are held for calibration. */
    static final long MAX_VALUES = 1L << 28;

    /** Samples {@code n} images of {@code data} with {@code seed} and preprocesses them. */
    public static CalibrationImages sample(Dataset data, Preprocessing pre, int n, long seed) {
        pre.checkChannels(data.channels());
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        int per = c * h * w;
        long count = Math.min(n, data.size());
        long values = count * per;
        if (values > MAX_VALUES) {
            throw new AcdcException(String.format("%d calibration images of %dx%dx%d would take %.1f GB; at most %,d "
                    + "values (1 GB) are held: lower --calibration-images", count, c, h, w, values * 4 / 1e9,
                    MAX_VALUES));
        }
        Sampling.Subset subset = Sampling.sample(data, n, seed);
        float[] x = new float[(int) values];
        byte[] pixels = new byte[per];
        float[] one = new float[per];
        int[] labels = data.hasLabels() ? new int[subset.size()] : null;
        int[] label = new int[1];
        for (int k = 0; k < subset.size(); k++) {
            data.read(subset.indices()[k], 1, pixels, labels == null ? null : label);
            if (labels != null) {
                labels[k] = label[0];
            }
            pre.apply(pixels, 1, c, h, w, one);
            System.arraycopy(one, 0, x, k * per, per);
        }
        long[] shape = pre.nhwc() ? new long[] {h, w, c} : new long[] {c, h, w};
        return new CalibrationImages(x, subset.size(), shape, data.describe(), subset, seed, pre, labels);
    }

    public int perSample() {
        int p = 1;
        for (long d : sampleShape) {
            p *= (int) d;
        }
        return p;
    }

    /** For the report. */
    public CalibrationSample sample() {
        return new CalibrationSample(source, count, subset.describe(), seed, PreprocessingInfo.of(preprocessing));
    }
}
