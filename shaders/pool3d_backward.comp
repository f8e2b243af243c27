#version 450
// 3-D MaxPool / AveragePool backward as a gather, one input element per invocation: dX += Σ over the windows holding it of
// dY (max: only where it is the window's first maximum, recomputed from X; average: dY / divisor). One writer per element.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Dy { sfloat dy[]; };
layout(std430, binding = 2) buffer Dx { sfloat dx[]; };
#define POOL3D_LOAD(i) LOAD(x[i])
#include "pool3d_window.glsl"
#include "window_taps.glsl"

void main()
{
    uint i = linear_invocation_index();
    uint size = p.D * p.H * p.W;
    if (i >= p.planes * size) return;
    uint ix = i % p.W, iy = (i / p.W) % p.H, iz = (i / (p.W * p.H)) % p.D, plane = i / size;
    afloat sum = afloat(0);
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
                uint o = ((plane * p.OD + uint(oz)) * p.OH + uint(oy)) * p.OW + uint(ox);
                Window r = pool3d_window(plane, uint(oz), uint(oy), uint(ox));
                if (p.isMax == 0u) sum += LOAD(dy[o]) / r.divisor;
                else if (r.arg == i) sum += LOAD(dy[o]);
            }
        }
    }
    dx[i] = STORE(LOAD(dx[i]) + sum);
}
