#version 450
// 3-D Conv backward, dW += Σ over images and output positions of dz · x at the tap: one invocation per weight element, summing
// in a fixed order (bitwise reproducible, no atomics).
#include "precision.glsl"
#include "indexing.glsl"
#include "conv3d_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Dz { sfloat dz[]; };
layout(std430, binding = 2) buffer Dw { sfloat dw[]; };

void main()
{
    uint i = linear_invocation_index();
    uint taps = p.KD * p.KH * p.KW;
    if (i >= p.M * p.CG * taps) return;
    uint kx = i % p.KW, ky = (i / p.KW) % p.KH, kz = (i / (p.KW * p.KH)) % p.KD, ci = (i / taps) % p.CG, m = i / (taps * p.CG);
    uint c = m / p.MG * p.CG + ci;
    afloat sum = afloat(0);
    for (uint n = 0u; n < p.N; ++n)
    {
        uint xbase = (n * p.C + c) * p.D * p.H * p.W, zbase = (n * p.M + m) * p.OD * p.OH * p.OW;
        for (uint oz = 0u; oz < p.OD; ++oz)
        {
            int iz = window_tap(oz, kz, p.SD, p.DD, p.PD, p.D);
            if (iz < 0) continue;
            for (uint oy = 0u; oy < p.OH; ++oy)
            {
                int iy = window_tap(oy, ky, p.SH, p.DH, p.PH, p.H);
                if (iy < 0) continue;
                for (uint ox = 0u; ox < p.OW; ++ox)
                {
                    int ix = window_tap(ox, kx, p.SW, p.DW, p.PW, p.W);
                    if (ix < 0) continue;
                    sum += LOAD(x[xbase + (uint(iz) * p.H + uint(iy)) * p.W + uint(ix)]) * LOAD(dz[zbase + (oz * p.OH + oy) * p.OW + ox]);
                }
            }
        }
    }
    dw[i] = STORE(LOAD(dw[i]) + sum);
}
