#version 450
// Transpose backward: dX[i] += dY[Σ coord_d(i) * stride of dY along inverse_perm[d]], a gather
// over dX (the inverse permutation of the forward).
#include "precision.glsl"
#include "indexing.glsl"
#include "strided_gather.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 1) buffer DX { sfloat dx[]; };

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    dx[i] = STORE(LOAD(dx[i]) + LOAD(dy[strided_source(i)]));
}
