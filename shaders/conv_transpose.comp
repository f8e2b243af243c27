#version 450
// ConvTranspose, one output per invocation, gathered from the NCHW input and ONNX
// [C, M/group, KH, KW] weights: y[oy] takes x[iy] through tap ky when oy + PT = iy*SH + ky*DH.
// Pads may be negative (output_shape larger than the natural size): those outputs get the bias.
#include "precision.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.N * p.M * p.OH * p.OW) return;
    uint ox = i % p.OW, oy = (i / p.OW) % p.OH, m = (i / (p.OW * p.OH)) % p.M, n = i / (p.OW * p.OH * p.M);
    uint g = m / p.MG, mg = m % p.MG;
    afloat sum = LOAD(bias[m]);
    int ty0 = int(oy) + p.PT, tx0 = int(ox) + p.PL;
    for (uint ky = 0u; ky < p.KH; ++ky)
    {
        int ty = ty0 - int(ky * p.DH);
        if (ty < 0 || ty % int(p.SH) != 0) continue;
        uint iy = uint(ty) / p.SH;
        if (iy >= p.H) continue;
        for (uint kx = 0u; kx < p.KW; ++kx)
        {
            int tx = tx0 - int(kx * p.DW);
            if (tx < 0 || tx % int(p.SW) != 0) continue;
            uint ix = uint(tx) / p.SW;
            if (ix >= p.W) continue;
            for (uint c = 0u; c < p.CG; ++c)
            {
                uint ic = g * p.CG + c;
                sum += LOAD(x[((n * p.C + ic) * p.H + iy) * p.W + ix]) * LOAD(w[((ic * p.MG + mg) * p.KH + ky) * p.KW + kx]);
            }
        }
    }
    y[i] = STORE(activate(sum, p.alpha, p.beta));
}
