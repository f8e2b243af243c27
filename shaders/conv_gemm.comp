#version 450
// Conv as an implicit GEMM: [output pixels] x [output channels], K = (C/group) * KH * KW.
// Input comes from conv_pack (4 channels per vec4, zero padding written out), weights are
// repacked by Ops/Conv.cs as [group][M block][K/4][4 channels][CO] so each K step is CO vec4
// loads. Register blocking: every invocation accumulates PX output pixels x CO channels.
// On CPU drivers (lavapipe) each load is a per-lane loop, so loads per FMA is what counts;
// shared memory and barriers cost more there than they save.
// A = channel blocks of 4 per group, B = padded height Hp, D = padded width Wp; SH/SW are the
// strides within the packed input (conv_pack drops rows/columns a large stride skips).
// ACCUMULATE (ConvTranspose's input gradient): y += acc, no bias or activation.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

#define PX 8
#define CO 16
#define CO4 (CO / 4)

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer Xp { sfloat4 xp[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat4 w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) buffer Y { sfloat y[]; };
layout(constant_id = 5) const bool RESIDUAL = false;
#define RESIDUAL_BINDING 4
#include "residual.glsl"

void main()
{
    uint OHW = p.OH * p.OW, P = p.N * OHW;
    uint lane = gl_GlobalInvocationID.x;
    if (lane * PX >= P) return;
    uint b = gl_WorkGroupID.y, g = gl_WorkGroupID.z, groups = p.C / p.CG;
    uint hwp = p.B * p.D;

    // Padded-input offset of each pixel's window origin; the tail lane repeats the last pixel.
    uint base[PX];
    [[unroll]] for (uint j = 0u; j < PX; ++j)
    {
        uint pix = min(lane * PX + j, P - 1u);
        uint n = pix / OHW, r = pix - n * OHW, oy = r / p.OW, ox = r - oy * p.OW;
        base[j] = ((n * groups + g) * p.A * p.B + oy * p.SH) * p.D + ox * p.SW;
    }
    afloat4 acc[PX][CO4];
    [[unroll]] for (uint j = 0u; j < PX; ++j)
        [[unroll]] for (uint q = 0u; q < CO4; ++q) acc[j][q] = afloat4(0);

    uint wi = (g * gl_NumWorkGroups.y + b) * p.A * p.KH * p.KW * CO;
    for (uint cb = 0u; cb < p.A; ++cb)
    for (uint ky = 0u; ky < p.KH; ++ky)
    for (uint kx = 0u; kx < p.KW; ++kx)
    {
        uint koff = cb * hwp + ky * p.DH * p.D + kx * p.DW;
        afloat4 xv[PX];
        [[unroll]] for (uint j = 0u; j < PX; ++j) xv[j] = afloat4(xp[base[j] + koff]);
        [[unroll]] for (uint q = 0u; q < CO4; ++q)
        {
            afloat4 w0 = afloat4(w[wi + q]), w1 = afloat4(w[wi + CO4 + q]);
            afloat4 w2 = afloat4(w[wi + 2u * CO4 + q]), w3 = afloat4(w[wi + 3u * CO4 + q]);
            [[unroll]] for (uint j = 0u; j < PX; ++j)
                acc[j][q] = fma(afloat4(xv[j].w), w3, fma(afloat4(xv[j].z), w2, fma(afloat4(xv[j].y), w1, fma(afloat4(xv[j].x), w0, acc[j][q]))));
        }
        wi += CO;
    }

    // No `break` in these loops: it keeps acc[] from being indexed dynamically after unrolling.
    [[unroll]] for (uint j = 0u; j < PX; ++j)
    {
        uint pix = lane * PX + j;
        if (pix < P)
        {
            uint n = pix / OHW, r = pix - n * OHW;
            [[unroll]] for (uint q = 0u; q < CO4; ++q)
                [[unroll]] for (uint e = 0u; e < 4u; ++e)
                {
                    uint mg = b * CO + q * 4u + e;
                    if (mg < p.MG)
                    {
                        uint m = g * p.MG + mg;
                        uint o = (n * p.M + m) * OHW + r;
                        y[o] = STORE(ACCUMULATE ? LOAD(y[o]) + acc[j][q][e]
                            : activate(acc[j][q][e] + LOAD(bias[m]) + residual_at(o), p.alpha, p.beta));
                    }
                }
        }
    }
}
