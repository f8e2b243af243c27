#version 450
// MaxPool / AveragePool backward: one input-gradient element per invocation on a 3-D grid
// (x = column, y = row, z = plane), gathering dY from every window that contains it, so each
// dX element has exactly one writer and a fixed summation order (no atomics). MaxPool routes a
// window's gradient to the FIRST tap in window order (row-major kh, kw) whose input equals the
// saved output: the forward's max, with ties resolved to the lowest window index. Average
// divides by the forward's divisor (count_include_pad and the ceil_mode overhang rule).
#include "precision.glsl"

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

// Whether tap (kh, kw) is the first tap of the window at (h0, w0) whose input equals m.
bool first_match(uint base, int h0, int w0, int kh, int kw, afloat m)
{
    for (int a = 0; a <= kh; ++a)
    {
        int hh = h0 + a * DH;
        int end = a == kh ? kw : KW;
        if (hh < 0 || hh >= p.H) continue;
        for (int b = 0; b < end; ++b)
        {
            int ww = w0 + b * DW;
            if (ww >= 0 && ww < p.W && LOAD(x[base + uint(hh * p.W + ww)]) == m) return false;
        }
    }
    return true;
}

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

void main()
{
    int w = int(gl_GlobalInvocationID.x), h = int(gl_GlobalInvocationID.y);
    if (w >= p.W || h >= p.H) return;
    for (uint plane = gl_WorkGroupID.z; plane < p.planes; plane += gl_NumWorkGroups.z)
    {
        uint base = plane * uint(p.H * p.W);
        uint obase = plane * p.OH * p.OW;
        afloat self = LOAD(x[base + uint(h * p.W + w)]);
        afloat g = afloat(0);
        for (int kh = 0; kh < KH; ++kh)
        {
            int th = h + p.padTop - kh * DH;
            if (th < 0 || th % SH != 0 || th / SH >= int(p.OH)) continue;
            int oh = th / SH;
            for (int kw = 0; kw < KW; ++kw)
            {
                int tw = w + p.padLeft - kw * DW;
                if (tw < 0 || tw % SW != 0 || tw / SW >= int(p.OW)) continue;
                int ow = tw / SW;
                uint o = obase + uint(oh) * p.OW + uint(ow);
                int h0 = oh * SH - p.padTop, w0 = ow * SW - p.padLeft;
                if (MODE == 0u)
                {
                    afloat m = LOAD(y[o]);
                    if (self == m && first_match(base, h0, w0, kh, kw, m)) g += LOAD(dy[o]);
                }
                else
                {
                    g += LOAD(dy[o]) / afloat(average_divisor(h0, w0));
                }
            }
        }
        uint i = base + uint(h * p.W + w);
        dx[i] = STORE(LOAD(dx[i]) + g);
    }
}
