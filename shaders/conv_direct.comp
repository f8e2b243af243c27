#version 450
// Conv, one output per invocation, straight from the NCHW input and ONNX [M, C/group, KH, KW]
// weights: the reference strategy that supports every attribute combination.
#include "precision.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

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
    if (i >= p.N * p.M * p.OH * p.OW) return;
    uint ox = i % p.OW, oy = (i / p.OW) % p.OH, m = (i / (p.OW * p.OH)) % p.M, n = i / (p.OW * p.OH * p.M);
    uint g = m / p.MG;
    afloat sum = LOAD(bias[m]);
    int iy0 = int(oy * p.SH) - p.PT, ix0 = int(ox * p.SW) - p.PL;
    for (uint c = 0u; c < p.CG; ++c)
    {
        uint xbase = (n * p.C + g * p.CG + c) * p.H * p.W;
        uint wbase = (m * p.CG + c) * p.KH * p.KW;
        for (uint ky = 0u; ky < p.KH; ++ky)
        {
            int iy = iy0 + int(ky * p.DH);
            if (iy < 0 || iy >= int(p.H)) continue;
            for (uint kx = 0u; kx < p.KW; ++kx)
            {
                int ix = ix0 + int(kx * p.DW);
                if (ix < 0 || ix >= int(p.W)) continue;
                sum += LOAD(x[xbase + uint(iy) * p.W + uint(ix)]) * LOAD(w[wbase + ky * p.KW + kx]);
            }
        }
    }
    y[i] = STORE(activate(sum + residual_at(i), p.alpha, p.beta));
}
