#version 450
// 3-D Conv, one output per invocation, straight from the NCDHW input and ONNX [M, C/group, KD, KH, KW] weights, with bias,
// a fused activation and a fused residual: every attribute combination of a 3-D convolution.
#include "precision.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "conv3d_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(constant_id = 4) const bool RESIDUAL = false;
#define RESIDUAL_BINDING 4
#include "residual.glsl"

void main()
{
    uint i = linear_invocation_index();
    uint plane = p.OD * p.OH * p.OW;
    if (i >= p.N * p.M * plane) return;
    uint ox = i % p.OW, oy = (i / p.OW) % p.OH, oz = (i / (p.OW * p.OH)) % p.OD, m = (i / plane) % p.M, n = i / (plane * p.M);
    uint g = m / p.MG;
    afloat sum = LOAD(bias[m]);
    for (uint c = 0u; c < p.CG; ++c)
    {
        uint xbase = (n * p.C + g * p.CG + c) * p.D * p.H * p.W;
        uint wbase = (m * p.CG + c) * p.KD * p.KH * p.KW;
        for (uint kz = 0u; kz < p.KD; ++kz)
        {
            int iz = window_tap(oz, kz, p.SD, p.DD, p.PD, p.D);
            if (iz < 0) continue;
            for (uint ky = 0u; ky < p.KH; ++ky)
            {
                int iy = window_tap(oy, ky, p.SH, p.DH, p.PH, p.H);
                if (iy < 0) continue;
                for (uint kx = 0u; kx < p.KW; ++kx)
                {
                    int ix = window_tap(ox, kx, p.SW, p.DW, p.PW, p.W);
                    if (ix < 0) continue;
                    sum += LOAD(x[xbase + (uint(iz) * p.H + uint(iy)) * p.W + uint(ix)]) * LOAD(w[wbase + (kz * p.KH + ky) * p.KW + kx]);
                }
            }
        }
    }
    y[i] = STORE(activate(sum + residual_at(i), p.alpha, p.beta));
}
