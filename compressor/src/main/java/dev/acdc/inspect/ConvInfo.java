package dev.acdc.inspect;

/**
 * One convolution as {@code acdc inspect} reports it: kernel {@code O × I/G × kh × kw}, group,
 * stride, parameters (weight plus bias), multiply-adds at the inspected input shape, and the residual
 * block and stage it sits in (what {@code --share=block} and {@code --share=stage} share over).
 */
public record ConvInfo(String name, long out, long inPerGroup, long kh, long kw, long group, long[] strides,
                       long params, long macs, String kind, int block, int stage) {

    public String kernelString() {
        return out + "x" + inPerGroup + "x" + kh + "x" + kw;
    }

    public boolean spatial() {
        return kh * kw > 1;
    }
}
