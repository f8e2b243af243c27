#version 450
// 3-D Conv backward, dX += Σ dz · w over every output position and tap that read this input element (a gather: one writer
// per element, no atomics). dz is the output gradient through the fused activation, NCDHW.
#include "precision.glsl"
#include "indexing.glsl"
#include "conv3d_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Dz { sfloat dz[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) buffer Dx { sfloat dx[]; };

void main()
{
    uint i = linear_invocation_index();
    uint plane = p.D * p.H * p.W;
    if (i >= p.N * p.C * plane) return;
    uint ix = i % p.W, iy = (i / p.W) % p.H, iz = (i / (p.W * p.H)) % p.D, c = (i / plane) % p.C, n = i / (plane * p.C);
    uint g = c / p.CG, ci = c % p.CG;
    afloat sum = afloat(0);
    for (uint mi = 0u; mi < p.MG; ++mi)
    {
        uint m = g * p.MG + mi;
        uint zbase = (n * p.M + m) * p.OD * p.OH * p.OW;
        uint wbase = (m * p.CG + ci) * p.KD * p.KH * p.KW;
        for (uint kz = 0u; kz < p.KD; ++kz)
        {
            int oz = window_source(iz, kz, p.SD, p.DD, p.PD, p.OD);
            if (oz < 0) continue;
            for (uint ky = 0u; ky < p.KH; ++ky)
            {
                int oy = window_source(iy, ky, p.SH, p.DH, p.PH, p.OH);
                if (oy < 0) continue;
                for (uint kx = 0u; kx < p.KW; ++kx)
                {
                    int ox = window_source(ix, kx, p.SW, p.DW, p.PW, p.OW);
                    if (ox < 0) continue;
                    sum += LOAD(dz[zbase + (uint(oz) * p.OH + uint(oy)) * p.OW + uint(ox)]) * LOAD(w[wbase + (kz * p.KH + ky) * p.KW + kx]);
                }
            }
        }
    }
    dx[i] = STORE(LOAD(dx[i]) + sum);
}
