#version 450
// MaxPool / AveragePool backward when windows cannot overlap (stride >= dilated kernel extent on
// both axes, e.g. 2x2 stride 2): one invocation per window, on the forward's grid (x = output
// column, y = output row, z = plane), scatters its dY into the taps it covers. Every input element
// lies in at most one window, so each dX element still has exactly one writer (no atomics) and
// the result is the same as pool_backward_window's gather, without its per-element window search.
// Max: the first tap in window order equal to the saved output; average: the forward's divisor.
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

void main()
{
    uint ow = gl_GlobalInvocationID.x, oh = gl_GlobalInvocationID.y;
    if (ow >= p.OW || oh >= p.OH) return;
    int h0 = int(oh) * SH - p.padTop, w0 = int(ow) * SW - p.padLeft;
    for (uint plane = gl_WorkGroupID.z; plane < p.planes; plane += gl_NumWorkGroups.z)
    {
        uint base = plane * uint(p.H * p.W);
        uint o = plane * p.OH * p.OW + oh * p.OW + ow;
        afloat g = LOAD(dy[o]);
        if (MODE == 0u)
        {
            afloat m = LOAD(y[o]);
            bool found = false;   // a NaN maximum matches no tap: no element receives the gradient
            for (int kh = 0; kh < KH; ++kh)
            {
                int h = h0 + kh * DH;
                for (int kw = 0; kw < KW; ++kw)
                {
                    int w = w0 + kw * DW;
                    if (!found && h >= 0 && h < p.H && w >= 0 && w < p.W)
                    {
                        uint i = base + uint(h * p.W + w);
                        if (LOAD(x[i]) == m) { found = true; dx[i] = STORE(LOAD(dx[i]) + g); }
                    }
                }
            }
        }
        else
        {
            int th = 0, tw = 0;
            for (int kh = 0; kh < KH; ++kh)
            {
                int h = h0 + kh * DH;
                th += (COUNT_INCLUDE_PAD ? h < p.H + p.padBottom : h >= 0 && h < p.H) ? 1 : 0;
            }
            for (int kw = 0; kw < KW; ++kw)
            {
                int w = w0 + kw * DW;
                tw += (COUNT_INCLUDE_PAD ? w < p.W + p.padRight : w >= 0 && w < p.W) ? 1 : 0;
            }
            afloat share = g / afloat(th * tw);
            for (int kh = 0; kh < KH; ++kh)
            {
                int h = h0 + kh * DH;
                for (int kw = 0; kw < KW; ++kw)
                {
                    int w = w0 + kw * DW;
                    if (h >= 0 && h < p.H && w >= 0 && w < p.W)
                    {
                        uint i = base + uint(h * p.W + w);
                        dx[i] = STORE(LOAD(dx[i]) + share);
                    }
                }
            }
        }
    }
}
