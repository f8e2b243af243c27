#version 450
// Backward of the views (Reshape, Flatten, Squeeze, Unsqueeze): dX += dY, same element order.
// Each invocation handles 4 elements: one vec4 where all 4 are in range, a scalar tail otherwise.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 0) readonly buffer DY4 { sfloat4 dy4[]; };
layout(std430, binding = 1) buffer DX { sfloat dx[]; };
layout(std430, binding = 1) buffer DX4 { sfloat4 dx4[]; };
layout(push_constant) uniform Params { uint count; } p;

void main()
{
    uint i = linear_invocation_index();
    uint first = i * 4u;
    if (first >= p.count) return;
    if (p.count - first >= 4u) dx4[i] = sfloat4(afloat4(dx4[i]) + afloat4(dy4[i]));
    else for (uint j = first; j < p.count; ++j) dx[j] = STORE(LOAD(dx[j]) + LOAD(dy[j]));
}
