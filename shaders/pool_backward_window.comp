#version 450
// MaxPool / AveragePool backward: one input-gradient element per invocation on a 3-D grid
// (x = column, y = row, z = plane), gathering dY from every window that contains it, so each
// dX element has exactly one writer and a fixed summation order (no atomics). MaxPool routes a
// window's gradient to the FIRST tap in window order (row-major kh, kw) whose input equals the
// saved output: the forward's max, with ties resolved to the lowest window index. Average
// divides by the forward's divisor (count_include_pad and the ceil_mode overhang rule).
#include "precision.glsl"
#include "pool_backward.glsl"

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
