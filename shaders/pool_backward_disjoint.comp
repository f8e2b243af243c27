#version 450
// MaxPool / AveragePool backward when windows cannot overlap (stride >= dilated kernel extent on
// both axes, e.g. 2x2 stride 2): one invocation per window, on the forward's grid (x = output
// column, y = output row, z = plane), scatters its dY into the taps it covers. Every input element
// lies in at most one window, so each dX element still has exactly one writer (no atomics) and
// the result is the same as pool_backward_window's gather, without its per-element window search.
// Max: the first tap in window order equal to the saved output; average: the forward's divisor.
#include "precision.glsl"
#include "pool_backward.glsl"

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
            afloat share = g / afloat(average_divisor(h0, w0));
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
