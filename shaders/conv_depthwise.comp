#version 450
// Depthwise Conv (group == C, channel multiplier M / C). Input comes from conv_pack with one slot
// per OUTPUT channel (input channel m / multiplier), 4 channels per vec4, padding written out;
// weights are packed as [M/4][KH][KW] vec4. Each invocation computes PX consecutive output
// pixels of one row for 4 channels. B = padded height Hp, D = padded width Wp.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

#define PX 4

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Xp { sfloat4 xp[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat4 w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };

void main()
{
    uint blocksX = (p.OW + PX - 1u) / PX;
    uint lane = gl_GlobalInvocationID.x;
    if (lane >= p.N * p.OH * blocksX) return;
    uint ox0 = (lane % blocksX) * PX, oy = (lane / blocksX) % p.OH, n = lane / (blocksX * p.OH);
    uint mb = gl_WorkGroupID.y, mblocks = gl_NumWorkGroups.y;

    uint base[PX];
    [[unroll]] for (uint j = 0u; j < PX; ++j)
        base[j] = ((n * mblocks + mb) * p.B + oy * p.SH) * p.D + min(ox0 + j, p.OW - 1u) * p.SW;
    afloat4 acc[PX];
    [[unroll]] for (uint j = 0u; j < PX; ++j) acc[j] = afloat4(0);

    uint wi = mb * p.KH * p.KW;
    for (uint ky = 0u; ky < p.KH; ++ky)
    for (uint kx = 0u; kx < p.KW; ++kx)
    {
        afloat4 wv = afloat4(w[wi++]);
        uint koff = ky * p.DH * p.D + kx * p.DW;
        [[unroll]] for (uint j = 0u; j < PX; ++j) acc[j] = fma(afloat4(xp[base[j] + koff]), wv, acc[j]);
    }

    uint OHW = p.OH * p.OW;
    [[unroll]] for (uint e = 0u; e < 4u; ++e)
    {
        uint m = mb * 4u + e;
        if (m < p.M)
        {
            afloat bm = LOAD(bias[m]);
            [[unroll]] for (uint j = 0u; j < PX; ++j)
                if (ox0 + j < p.OW)
                    y[(n * p.M + m) * OHW + oy * p.OW + ox0 + j] = STORE(activate(acc[j][e] + bm, p.alpha, p.beta));
        }
    }
}
