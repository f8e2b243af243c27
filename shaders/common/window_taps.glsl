// One spatial axis of a sliding window (3-D conv and pooling kernels): which input position a tap reads, and which output
// position reads a given input position through a tap (i = o·stride + k·dilation − pad).
#ifndef VKCNN_WINDOW_TAPS_GLSL
#define VKCNN_WINDOW_TAPS_GLSL
// The input position tap k of output o reads, or -1 outside the input.
int window_tap(uint o, uint k, uint stride, uint dilation, int pad, uint size)
{
    int i = int(o * stride + k * dilation) - pad;
    return i >= 0 && i < int(size) ? i : -1;
}

// The output position whose tap k reads input position i, or -1 when none does.
int window_source(uint i, uint k, uint stride, uint dilation, int pad, uint outSize)
{
    int t = int(i) + pad - int(k * dilation);
    if (t < 0 || t % int(stride) != 0) return -1;
    int o = t / int(stride);
    return o < int(outSize) ? o : -1;
}
#endif
