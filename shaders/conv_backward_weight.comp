#version 450
// Conv weight gradient: dW[m, c, ky, kx] = sum over images and output pixels of
// dL/dz[n, m, oy, ox] · X[n, c, oy·SH - PT + ky·DH, ox·SW - PL + kx·DW].
// X comes from conv_pack ([N][group][CG/4][Hp][Wp] vec4, padding written out, SH/SW = packed
// strides), dL/dz from conv_backward_dy (TRANSPOSED, [group][MG4][N·OH·OW] vec4). Each invocation
// owns a block of 4·MH output channels x 4 input channels x TB taps and sums over one chunk of
// output rows in a fixed order; chunks (grid y) write partial sums that conv_backward_reduce adds
// up in chunk order, or, with one chunk (ACCUMULATE), add straight into dW. Deterministic.
// A = CG/4 blocks, B = Hp, D = Wp, E = MG4, F = output rows (n, oy) per chunk. Grid z = group.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "conv_params.glsl"

#define TB_MAX 4
#define MH_MAX 4

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint TB = 4;          // taps per invocation, 1..4
layout(constant_id = 5) const uint MH = 2;          // vec4s of output channels per invocation, 1..4
layout(constant_id = 6) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer Xp { sfloat4 xp[]; };
layout(std430, binding = 1) readonly buffer Dy { sfloat4 dy[]; };
layout(std430, binding = 2) buffer Out { sfloat o[]; };

void main()
{
    uint taps = p.KH * p.KW, tbn = (taps + TB - 1u) / TB, mbn = (p.E + MH - 1u) / MH;
    uint lane = gl_GlobalInvocationID.x;
    if (lane >= mbn * p.A * tbn) return;
    uint tb = lane % tbn, cb = (lane / tbn) % p.A, mb = lane / (tbn * p.A);
    uint chunk = gl_WorkGroupID.y, g = gl_WorkGroupID.z, groups = p.C / p.CG;
    uint r0 = chunk * p.F, r1 = min(r0 + p.F, p.N * p.OH), P = p.N * p.OH * p.OW;

    uint off[TB_MAX];
    [[unroll]] for (uint i = 0u; i < TB_MAX; ++i)
    {
        uint t = min(tb * TB + i, taps - 1u), ky = t / p.KW, kx = t - ky * p.KW;
        off[i] = ky * p.DH * p.D + kx * p.DW;
    }
    uint plane[MH_MAX];
    [[unroll]] for (uint h = 0u; h < MH_MAX; ++h) plane[h] = (g * p.E + min(mb * MH + h, p.E - 1u)) * P;

    afloat4 acc[TB_MAX][4][MH_MAX];
    [[unroll]] for (uint i = 0u; i < TB_MAX; ++i)
        [[unroll]] for (uint ci = 0u; ci < 4u; ++ci)
            [[unroll]] for (uint h = 0u; h < MH_MAX; ++h) acc[i][ci][h] = afloat4(0);

    for (uint r = r0; r < r1; ++r)
    {
        uint n = r / p.OH, oy = r - n * p.OH;
        uint xb = (((n * groups + g) * p.A + cb) * p.B + oy * p.SH) * p.D, pb = r * p.OW;
        for (uint ox = 0u; ox < p.OW; ++ox)
        {
            afloat4 d[MH_MAX];
            [[unroll]] for (uint h = 0u; h < MH_MAX; ++h)
                if (h < MH) d[h] = afloat4(dy[plane[h] + pb + ox]);
            [[unroll]] for (uint i = 0u; i < TB_MAX; ++i)
                if (i < TB)
                {
                    afloat4 xv = afloat4(xp[xb + off[i]]);
                    [[unroll]] for (uint ci = 0u; ci < 4u; ++ci)
                        [[unroll]] for (uint h = 0u; h < MH_MAX; ++h)
                            if (h < MH) acc[i][ci][h] = fma(afloat4(xv[ci]), d[h], acc[i][ci][h]);
                }
            xb += p.SW;
        }
    }

    uint size = p.M * p.CG * taps;
    [[unroll]] for (uint i = 0u; i < TB_MAX; ++i)
    {
        uint t = tb * TB + i;
        [[unroll]] for (uint ci = 0u; ci < 4u; ++ci)
            [[unroll]] for (uint h = 0u; h < MH_MAX; ++h)
                [[unroll]] for (uint e = 0u; e < 4u; ++e)
                {
                    uint c = cb * 4u + ci, mg = (mb * MH + h) * 4u + e;
                    if (i < TB && h < MH && t < taps && c < p.CG && mg < p.MG)
                    {
                        uint k = ((g * p.MG + mg) * p.CG + c) * taps + t;
                        if (ACCUMULATE) o[k] = STORE(LOAD(o[k]) + acc[i][ci][h][e]);
                        else o[chunk * size + k] = STORE(acc[i][ci][h][e]);
                    }
                }
    }
}
