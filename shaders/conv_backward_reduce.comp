#version 450
// Sums the per-chunk partial weight gradients of conv_backward_weight in chunk order and adds
// them into dW: one invocation per weight, so the result is the same bit for bit on every run.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Partial { sfloat partial[]; };
layout(std430, binding = 1) buffer Dw { sfloat dw[]; };
layout(push_constant) uniform Params { uint count, chunks; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    afloat s = afloat(0);
    for (uint c = 0u; c < p.chunks; ++c) s += LOAD(partial[c * p.count + i]);
    dw[i] = STORE(LOAD(dw[i]) + s);
}
