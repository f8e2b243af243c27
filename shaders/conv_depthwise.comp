#version 450
// Depthwise Conv (group == C, channel multiplier M / C) straight from NCHW. Each invocation
// computes PX consecutive outputs of one row of one channel; per kernel row it loads the input
// span those outputs share once ((PX-1)*SW + (KW-1)*DW + 1 values) and reuses it for every tap.
// KW, SW, DW are specialization constants so the span loops unroll into registers.
// Lanes run along one axis over (image·channel, row, column block), x then y (linear_invocation_index):
// CPU drivers vectorise a workgroup along x only, so a narrow plane (7 columns: one block) laid out
// on x would leave all but one SIMD lane idle. A = column blocks per row.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

#define PX 8
#define KW_MAX 7
#define S_MAX 2
#define D_MAX 2
#define SPAN_MAX ((PX - 1) * S_MAX + (KW_MAX - 1) * D_MAX + 1)

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint KW = 3;
layout(constant_id = 5) const uint SW = 1;
layout(constant_id = 6) const uint DW = 1;
const uint SPAN = (PX - 1u) * SW + (KW - 1u) * DW + 1u;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(constant_id = 7) const bool RESIDUAL = false;
#define RESIDUAL_BINDING 4
#include "residual.glsl"

void main()
{
    uint i = linear_invocation_index(), rowBlocks = p.OH * p.A;
    if (i >= p.N * p.M * rowBlocks) return;
    uint nm = i / rowBlocks, r = i - nm * rowBlocks, oy = r / p.A, ox0 = (r - oy * p.A) * PX;
    uint m = nm % p.M, n = nm / p.M;
    uint plane = (n * p.C + m / p.MG) * p.H * p.W;
    int ix0 = int(ox0 * SW) - p.PL, iy0 = int(oy * p.SH) - p.PT;

    afloat acc[PX];
    [[unroll]] for (uint j = 0u; j < PX; ++j) acc[j] = afloat(0);
    for (uint ky = 0u; ky < p.KH; ++ky)
    {
        int iy = iy0 + int(ky * p.DH);
        if (iy < 0 || iy >= int(p.H)) continue;
        uint row = plane + uint(iy) * p.W;
        afloat xs[SPAN_MAX];
        [[unroll]] for (uint t = 0u; t < SPAN_MAX; ++t)
            if (t < SPAN)
            {
                int ix = ix0 + int(t);
                afloat v = LOAD(x[row + uint(clamp(ix, 0, int(p.W) - 1))]);
                xs[t] = ix >= 0 && ix < int(p.W) ? v : afloat(0);
            }
        [[unroll]] for (uint kx = 0u; kx < KW_MAX; ++kx)
            if (kx < KW)
            {
                afloat wv = LOAD(w[(m * p.KH + ky) * KW + kx]);
                [[unroll]] for (uint j = 0u; j < PX; ++j) acc[j] = fma(xs[j * SW + kx * DW], wv, acc[j]);
            }
    }

    afloat bm = LOAD(bias[m]);
    uint out0 = (nm * p.OH + oy) * p.OW + ox0;
    [[unroll]] for (uint j = 0u; j < PX; ++j)
        if (ox0 + j < p.OW) y[out0 + j] = STORE(activate(acc[j] + bm + residual_at(out0 + j), p.alpha, p.beta));
}
