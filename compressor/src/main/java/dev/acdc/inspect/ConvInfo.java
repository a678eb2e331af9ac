package dev.acdc.inspect;

/**
 * One convolution as {@code acdc inspect} reports it: kernel {@code O × I/G × kh × kw}, group,
 * stride, parameters (weight plus bias) and multiply-adds at the inspected input shape.
 */
public record ConvInfo(String name, long out, long inPerGroup, long kh, long kw, long group, long[] strides,
                       long params, long macs, String kind) {

    public String kernelString() {
        return out + "x" + inPerGroup + "x" + kh + "x" + kw;
    }

    public boolean spatial() {
        return kh * kw > 1;
    }

    /** "spatial", "1x1", "depthwise" (group = channels, spatial) or "grouped". */
    public static String kindOf(long out, long inPerGroup, long kh, long kw, long group) {
        if (kh * kw == 1) {
            return "1x1";
        }
        if (group > 1 && inPerGroup == 1) {
            return "depthwise";
        }
        return group > 1 ? "grouped" : "spatial";
    }
}
