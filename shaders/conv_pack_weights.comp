#version 450
// ONNX weights [M, CG, KH, KW] → the blocked layouts of the register-blocked conv kernels, on the
// GPU, for weights that are not compile-time constants (training). One output value per
// invocation; tails past MG / CG are written as 0. Ops/Conv.cs PackedGemmWeights is the CPU twin
// of layout 0 (constant weights).
// LAYOUT 0 (conv_gemm, conv_1x1): [group][MG/16 blocks][CG/4 blocks][taps][4 channels][16 m];
//   A = CG/4 blocks, B = MG/16 blocks.
// LAYOUT 1 (conv_backward_input): [group][CG/CO blocks][taps][MG4·4 m][CO channels], CO = 4·CO4;
//   A = CG/CO blocks, B = MG4 (vec4 blocks of m).
// E = number of values to write.
#include "precision.glsl"
#include "indexing.glsl"
#include "conv_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint LAYOUT = 0;
layout(constant_id = 5) const uint CO4 = 4;

layout(std430, binding = 0) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 1) writeonly buffer Packed { sfloat packed[]; };

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.E) return;
    uint taps = p.KH * p.KW, g, mg, c, t;
    if (LAYOUT == 0u)
    {
        uint o = i % 16u, ci = (i / 16u) % 4u, k = i / 64u;
        t = k % taps;
        uint cb = (k / taps) % p.A, rest = k / (taps * p.A);
        mg = (rest % p.B) * 16u + o;
        g = rest / p.B;
        c = cb * 4u + ci;
    }
    else
    {
        uint co = 4u * CO4, ms = 4u * p.B;
        c = i % co;
        mg = (i / co) % ms;
        t = (i / (co * ms)) % taps;
        uint rest = i / (co * ms * taps);
        c += (rest % p.A) * co;
        g = rest / p.A;
    }
    bool inside = mg < p.MG && c < p.CG;
    uint src = ((g * p.MG + min(mg, p.MG - 1u)) * p.CG + min(c, p.CG - 1u)) * taps + t;
    packed[i] = STORE(inside ? LOAD(w[src]) : afloat(0));
}
