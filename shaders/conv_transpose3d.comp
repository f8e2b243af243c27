#version 450
// 3-D ConvTranspose, one output per invocation: y = b + Σ x · w over the input positions and taps that scatter into it
// (o = i·stride + k·dilation − pad), weights ONNX [C, M/group, KD, KH, KW], with a fused activation.
#include "precision.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "conv3d_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };

void main()
{
    uint o = linear_invocation_index();
    uint plane = p.OD * p.OH * p.OW;
    if (o >= p.N * p.M * plane) return;
    uint ox = o % p.OW, oy = (o / p.OW) % p.OH, oz = (o / (p.OW * p.OH)) % p.OD, m = (o / plane) % p.M, n = o / (plane * p.M);
    uint g = m / p.MG, mi = m % p.MG;
    afloat sum = LOAD(bias[m]);
    for (uint ci = 0u; ci < p.CG; ++ci)
    {
        uint c = g * p.CG + ci;
        uint xbase = (n * p.C + c) * p.D * p.H * p.W;
        uint wbase = (c * p.MG + mi) * p.KD * p.KH * p.KW;
        for (uint kz = 0u; kz < p.KD; ++kz)
        {
            int iz = window_source(oz, kz, p.SD, p.DD, p.PD, p.D);
            if (iz < 0) continue;
            for (uint ky = 0u; ky < p.KH; ++ky)
            {
                int iy = window_source(oy, ky, p.SH, p.DH, p.PH, p.H);
                if (iy < 0) continue;
                for (uint kx = 0u; kx < p.KW; ++kx)
                {
                    int ix = window_source(ox, kx, p.SW, p.DW, p.PW, p.W);
                    if (ix < 0) continue;
                    sum += LOAD(x[xbase + (uint(iz) * p.H + uint(iy)) * p.W + uint(ix)]) * LOAD(w[wbase + (kz * p.KH + ky) * p.KW + kx]);
                }
            }
        }
    }
    y[o] = STORE(activate(sum, p.alpha, p.beta));
}
