#version 450
// Pointwise Conv (1x1 kernel, stride 1, no padding) as a plain GEMM straight from NCHW:
// Y[n, m, p] = sum_c W[m, c] X[n, c, p]. Each invocation accumulates PX pixels x CO output
// channels; pixels of one channel are loaded 4 at a time (vec4) when H*W is a multiple of 4
// (ALIGNED), else one by one. Weights are packed like conv_gemm's: [group][M block][C/4][4][CO].
// A = channel blocks of 4 per group.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

#define PX 8
#define CO 16
#define CO4 (CO / 4)
#define PX4 (PX / 4)

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool ALIGNED = true;

// The same input buffer, bound twice: as vec4 (aligned path) and as scalars.
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) readonly buffer X1 { sfloat x1[]; };
layout(std430, binding = 2) readonly buffer Wt { sfloat4 w[]; };
layout(std430, binding = 3) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 4) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 4) writeonly buffer Y4 { sfloat4 y4[]; };
layout(constant_id = 5) const bool RESIDUAL = false;
#define RESIDUAL_BINDING 5
#include "residual.glsl"

// Pixels p0 .. p0+3 of the channel plane starting at `plane` (clamped to the plane).
afloat4 load4(uint plane, uint p0, uint hw)
{
    if (ALIGNED) return afloat4(x4[(plane + min(p0, hw - 4u)) / 4u]);
    afloat4 v;
    [[unroll]] for (uint e = 0u; e < 4u; ++e) v[e] = LOAD(x1[plane + min(p0 + e, hw - 1u)]);
    return v;
}

void main()
{
    uint HW = p.OH * p.OW, perImage = (HW + PX - 1u) / PX;
    uint lane = gl_GlobalInvocationID.x, n = lane / perImage;
    if (n >= p.N) return;
    uint p0 = (lane - n * perImage) * PX;
    uint b = gl_WorkGroupID.y, g = gl_WorkGroupID.z;
    uint plane0 = (n * p.C + g * p.CG) * HW;

    afloat4 acc[PX][CO4];
    [[unroll]] for (uint j = 0u; j < PX; ++j)
        [[unroll]] for (uint q = 0u; q < CO4; ++q) acc[j][q] = afloat4(0);

    uint wi = (g * gl_NumWorkGroups.y + b) * p.A * CO;
    for (uint cb = 0u; cb < p.A; ++cb)
    {
        // xc[ci][t]: pixels 4t..4t+3 of channel 4cb+ci; channels past CG (last block) are 0.
        afloat4 xc[4][PX4];
        [[unroll]] for (uint ci = 0u; ci < 4u; ++ci)
        {
            uint c = cb * 4u + ci;
            [[unroll]] for (uint t = 0u; t < PX4; ++t)
                xc[ci][t] = c < p.CG ? load4(plane0 + c * HW, p0 + 4u * t, HW) : afloat4(0);
        }
        [[unroll]] for (uint q = 0u; q < CO4; ++q)
        {
            afloat4 wq[4] = { afloat4(w[wi + q]), afloat4(w[wi + CO4 + q]), afloat4(w[wi + 2u * CO4 + q]), afloat4(w[wi + 3u * CO4 + q]) };
            [[unroll]] for (uint t = 0u; t < PX4; ++t)
                [[unroll]] for (uint e = 0u; e < 4u; ++e)
                    [[unroll]] for (uint ci = 0u; ci < 4u; ++ci)
                        acc[4u * t + e][q] = fma(afloat4(xc[ci][t][e]), wq[ci], acc[4u * t + e][q]);
        }
        wi += CO;
    }

    // Epilogue per output channel: bias loaded once, and a whole aligned block of PX pixels stored as
    // vec4s (on lavapipe every store is a per-lane loop: 2 vec4 stores instead of 8 scalar ones).
    bool whole = ALIGNED && p0 + PX <= HW;
    [[unroll]] for (uint q = 0u; q < CO4; ++q)
        [[unroll]] for (uint e = 0u; e < 4u; ++e)
        {
            uint mg = b * CO + q * 4u + e;
            if (mg >= p.MG) continue;
            uint m = g * p.MG + mg;
            afloat bm = LOAD(bias[m]);
            uint o = (n * p.M + m) * HW + p0;
            if (whole)
            {
                [[unroll]] for (uint t = 0u; t < PX4; ++t)
                {
                    afloat4 v;
                    [[unroll]] for (uint k = 0u; k < 4u; ++k)
                        v[k] = activate(acc[4u * t + k][q][e] + bm + residual_at(o + 4u * t + k), p.alpha, p.beta);
                    y4[o / 4u + t] = sfloat4(v);
                }
            }
            else
            {
                [[unroll]] for (uint j = 0u; j < PX; ++j)
                    if (p0 + j < HW) y[o + j] = STORE(activate(acc[j][q][e] + bm + residual_at(o + j), p.alpha, p.beta));
            }
        }
}
