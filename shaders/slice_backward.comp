#version 450
// Slice backward: dX[start offset + Σ coord_d(i) * step_d * stride_d] += dY[i]. Slice positions
// are distinct, so each dX element is written by at most one invocation; the rest keep their value.
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
    int dst = strided_source(i);
    dx[dst] = STORE(LOAD(dx[dst]) + LOAD(dy[i]));
}
