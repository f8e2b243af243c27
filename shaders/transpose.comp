#version 450
// Transpose: out[i] = x[Σ coord_d(i) * stride(perm[d])], a gather over the permuted input strides.
#include "precision.glsl"
#include "indexing.glsl"
#include "strided_gather.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    y[i] = x[strided_source(i)];
}
