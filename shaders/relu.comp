#version 450
// y = max(x, 0).
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    y[i] = STORE(max(LOAD(x[i]), afloat(0)));
}
