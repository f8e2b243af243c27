#version 450
// MaxPool / AveragePool over NCHW with a 2-D window, one output element per invocation.
// Windows are pre-validated on the CPU (Ops/Pool.cs) to touch at least one input element.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint MODE = 0;                    // 0 = max, 1 = average
layout(constant_id = 5) const bool COUNT_INCLUDE_PAD = false;   // average: divide by taps inside the padded input

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params
{
    uint count; uint H; uint W; uint OH; uint OW;
    uint KH; uint KW; uint SH; uint SW; uint DH; uint DW;
    int padTop; int padLeft; int padBottom; int padRight;
} p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint ow = i % p.OW;
    uint t = i / p.OW;
    uint oh = t % p.OH;
    uint nc = t / p.OH;
    int h0 = int(oh * p.SH) - p.padTop;
    int w0 = int(ow * p.SW) - p.padLeft;
    int H = int(p.H), W = int(p.W);
    uint base = nc * p.H * p.W;

    afloat acc = MODE == 0u ? afloat(uintBitsToFloat(0xFF800000u)) : afloat(0);
    uint inside = 0u;
    for (uint kh = 0u; kh < p.KH; ++kh)
    {
        int h = h0 + int(kh * p.DH);
        if (h < 0 || h >= H) continue;
        uint row = base + uint(h) * p.W;
        for (uint kw = 0u; kw < p.KW; ++kw)
        {
            int w = w0 + int(kw * p.DW);
            if (w < 0 || w >= W) continue;
            afloat v = LOAD(x[row + uint(w)]);
            acc = MODE == 0u ? max(acc, v) : acc + v;
            ++inside;
        }
    }
    if (MODE == 1u)
    {
        uint divisor = inside;
        if (COUNT_INCLUDE_PAD)
        {
            // Taps inside [-pad, size + pad): a ceil_mode window's overhang past the padded
            // input is not counted (PyTorch's rule).
            uint th = 0u, tw = 0u;
            for (uint kh = 0u; kh < p.KH; ++kh) th += h0 + int(kh * p.DH) < H + p.padBottom ? 1u : 0u;
            for (uint kw = 0u; kw < p.KW; ++kw) tw += w0 + int(kw * p.DW) < W + p.padRight ? 1u : 0u;
            divisor = th * tw;
        }
        acc /= afloat(divisor);
    }
    y[i] = STORE(acc);
}
