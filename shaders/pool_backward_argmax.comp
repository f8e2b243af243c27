#version 450
// GlobalMaxPool backward, pass 1: per (n, c) plane, the first index whose input equals the saved
// output (the forward's max; ties go to the lowest index). One invocation per plane.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) writeonly buffer Arg { int arg[]; };
layout(push_constant) uniform Params { uint planes; uint size; } p;

void main()
{
    uint plane = linear_invocation_index();
    if (plane >= p.planes) return;
    afloat m = LOAD(y[plane]);
    uint base = plane * p.size;
    int found = -1;   // no match (a NaN max): no element receives the gradient
    for (uint j = 0u; j < p.size; ++j)
        if (LOAD(x[base + j]) == m) { found = int(j); break; }
    arg[plane] = found;
}
