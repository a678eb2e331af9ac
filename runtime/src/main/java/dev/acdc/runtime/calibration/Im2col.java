package dev.acdc.runtime.calibration;

import dev.acdc.ir.Node;

import java.util.stream.IntStream;

/**
 * Patch matrices of a 2-D convolution's input: row (image, output y, output x), column (input
 * channel, kernel row, kernel column) — the order of the flattened ONNX kernel [O, I, kh, kw], so
 * that the conv's output at a position is the row times the kernel's transpose.
 */
final class Im2col {
    final int channels;
    final int kh;
    final int kw;
    final int sh;
    final int sw;
    final int dh;
    final int dw;
    final int padTop;
    final int padLeft;

    private Im2col(int channels, int kh, int kw, int sh, int sw, int dh, int dw, int padTop, int padLeft) {
        this.channels = channels;
        this.kh = kh;
        this.kw = kw;
        this.sh = sh;
        this.sw = sw;
        this.dh = dh;
        this.dw = dw;
        this.padTop = padTop;
        this.padLeft = padLeft;
    }

    /**
     * The patch layout of conv {@code n} for an input of height {@code h} and width {@code w}; null when
     * its padding cannot be described (auto_pad other than NOTSET/VALID with unknown sizes).
     */
    static Im2col of(Node n, int channels, int kh, int kw, int h, int w) {
        long[] s = n.attrInts("strides", new long[] {1, 1});
        long[] d = n.attrInts("dilations", new long[] {1, 1});
        long[] p = n.attrInts("pads", new long[] {0, 0, 0, 0});
        String autoPad = n.attrString("auto_pad", "NOTSET");
        int top = (int) p[0];
        int left = (int) p[1];
        switch (autoPad) {
            case "NOTSET" -> {
            }
            case "VALID" -> {
                top = 0;
                left = 0;
            }
            case "SAME_UPPER", "SAME_LOWER" -> {
                int padH = Math.max(0, (int) (((h + s[0] - 1) / s[0] - 1) * s[0] + d[0] * (kh - 1) + 1 - h));
                int padW = Math.max(0, (int) (((w + s[1] - 1) / s[1] - 1) * s[1] + d[1] * (kw - 1) + 1 - w));
                boolean upper = autoPad.equals("SAME_UPPER");
                top = upper ? padH / 2 : padH - padH / 2;
                left = upper ? padW / 2 : padW - padW / 2;
            }
            default -> {
                return null;
            }
        }
        return new Im2col(channels, kh, kw, (int) s[0], (int) s[1], (int) d[0], (int) d[1], top, left);
    }

    int patchSize() {
        return channels * kh * kw;
    }

    /**
     * Writes the patches of {@code images} images of x ([N, C, h, w], starting at image {@code first})
     * into {@code out} (rows × patchSize), for an output of {@code oh × ow}.
     */
    void patches(float[] x, int first, int images, int h, int w, int oh, int ow, float[] out) {
        int d = patchSize();
        int plane = h * w;
        // one task per output line (image, oy): its ow rows × d columns stay in cache while each column is
        // filled from a contiguous run of the input row it reads
        IntStream.range(0, images * oh).parallel().forEach(line -> {
            int img = first + line / oh;
            int oy = line % oh;
            int rowBase = line * ow;
            int xb = img * channels * plane;
            int col = 0;
            for (int c = 0; c < channels; c++) {
                int cb = xb + c * plane;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * sh - padTop + ky * dh;
                    boolean rowIn = iy >= 0 && iy < h;
                    int ib = cb + iy * w;
                    for (int kx = 0; kx < kw; kx++, col++) {
                        int o = rowBase * d + col;
                        int ix = kx * dw - padLeft;
                        for (int ox = 0; ox < ow; ox++, o += d, ix += sw) {
                            out[o] = rowIn && ix >= 0 && ix < w ? x[ib + ix] : 0f;
                        }
                    }
                }
            }
        });
    }

    /**
     * As {@link #patches(float[], int, int, int, int, int, int, float[])} for the output positions
     * {@code positions[i]} (y·ow + x, any order) of image {@code first + i} only: their rows, image by image.
     */
    void patches(float[] x, int first, int images, int h, int w, int oh, int ow, int[][] positions, float[] out) {
        int d = patchSize();
        int plane = h * w;
        int[] rowStart = starts(positions);
        IntStream.range(0, images).parallel().forEach(i -> {
            int xb = (first + i) * channels * plane;
            int row = rowStart[i];
            for (int pos : positions[i]) {
                int oy = pos / ow;
                int ox = pos % ow;
                int o = row++ * d;
                for (int c = 0; c < channels; c++) {
                    int cb = xb + c * plane;
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * sh - padTop + ky * dh;
                        boolean rowIn = iy >= 0 && iy < h;
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * sw - padLeft + kx * dw;
                            out[o++] = rowIn && ix >= 0 && ix < w ? x[cb + iy * w + ix] : 0f;
                        }
                    }
                }
            }
        });
    }

    /** As {@link #rows(float[], int, int, int, int, float[])} for the output positions {@code positions[i]} only. */
    static void rows(float[] y, int first, int images, int channels, int plane, int[][] positions, float[] out) {
        int[] rowStart = starts(positions);
        IntStream.range(0, images).parallel().forEach(i -> {
            int base = (first + i) * channels * plane;
            int row = rowStart[i];
            for (int p : positions[i]) {
                int ro = row++ * channels;
                for (int c = 0; c < channels; c++) {
                    out[ro + c] = y[base + c * plane + p];
                }
            }
        });
    }

    private static int[] starts(int[][] positions) {
        int[] s = new int[positions.length];
        for (int i = 1; i < positions.length; i++) {
            s[i] = s[i - 1] + positions[i - 1].length;
        }
        return s;
    }

    /** Rows (image, y, x) × channels of an NCHW output: the transpose the statistics need. */
    static void rows(float[] y, int first, int images, int channels, int plane, float[] out) {
        IntStream.range(0, images).parallel().forEach(i -> {
            int base = (first + i) * channels * plane;
            int row0 = i * plane;
            for (int p = 0; p < plane; p++) {
                int ro = (row0 + p) * channels;
                for (int c = 0; c < channels; c++) {
                    out[ro + c] = y[base + c * plane + p];
                }
            }
        });
    }
}
