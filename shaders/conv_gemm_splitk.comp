#version 450
// Split-K epilogue of conv_gemm_tiled: y[o] = act(Σ_s partial[s][o] + bias[m] + residual[o]), the splits added in order
// (deterministic, no atomics). One invocation per output element of NCHW y; A = splits.
#include "precision.glsl"
#include "activation.glsl"
#include "conv_params.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer Partial { float partial[]; };
layout(std430, binding = 1) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(constant_id = 4) const bool RESIDUAL = false;
#define RESIDUAL_BINDING 3
#include "residual.glsl"

void main()
{
    uint OHW = p.OH * p.OW, count = p.N * p.M * OHW;
    uint o = linear_invocation_index();
    if (o >= count) return;
    afloat sum = afloat(0);
    for (uint s = 0u; s < p.A; ++s) sum += partial[s * count + o];
    uint m = (o / OHW) % p.M;
    y[o] = STORE(activate(sum + LOAD(bias[m]) + residual_at(o), p.alpha, p.beta));
}
