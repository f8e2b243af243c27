#version 450
// Second stage of a chunked binary_backward reduction: dX[j] += sum of its `chunks` partial
// sums, in chunk order (deterministic).
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Partial { sfloat partial[]; };
layout(std430, binding = 1) buffer DX { sfloat dx[]; };
layout(push_constant) uniform Params { uint count; uint chunks; } p;

void main()
{
    uint j = linear_invocation_index();
    if (j >= p.count) return;
    afloat sum = afloat(0);
    for (uint k = 0u, base = j * p.chunks; k < p.chunks; ++k) sum += LOAD(partial[base + k]);
    dx[j] = STORE(LOAD(dx[j]) + sum);
}
