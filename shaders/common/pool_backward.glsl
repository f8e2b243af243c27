// What the window-pooling backward kernels share (pool_backward_window gathers, pool_backward_disjoint
// scatters): the window geometry as specialisation constants, the bindings, the push constants and
// AveragePool's divisor.
#ifndef VKCNN_POOL_BACKWARD_GLSL
#define VKCNN_POOL_BACKWARD_GLSL
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint MODE = 0;                    // 0 = max, 1 = average
layout(constant_id = 5) const bool COUNT_INCLUDE_PAD = false;
layout(constant_id = 6) const int KH = 1;
layout(constant_id = 7) const int KW = 1;
layout(constant_id = 8) const int SH = 1;
layout(constant_id = 9) const int SW = 1;
layout(constant_id = 10) const int DH = 1;
layout(constant_id = 11) const int DW = 1;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 3) buffer DX { sfloat dx[]; };
layout(push_constant) uniform Params
{
    uint planes; int H; int W; uint OH; uint OW;
    int padTop; int padLeft; int padBottom; int padRight;
} p;

// The forward's divisor for the window at (h0, w0): taps inside the input, or with count_include_pad
// inside [-pad, size + pad) (a ceil_mode overhang past the padded input is not counted).
int average_divisor(int h0, int w0)
{
    int th = 0, tw = 0;
    for (int kh = 0; kh < KH; ++kh)
    {
        int hh = h0 + kh * DH;
        th += (COUNT_INCLUDE_PAD ? hh < p.H + p.padBottom : hh >= 0 && hh < p.H) ? 1 : 0;
    }
    for (int kw = 0; kw < KW; ++kw)
    {
        int ww = w0 + kw * DW;
        tw += (COUNT_INCLUDE_PAD ? ww < p.W + p.padRight : ww >= 0 && ww < p.W) ? 1 : 0;
    }
    return th * tw;
}
#endif
