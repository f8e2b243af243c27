#version 450
// Gather: the output is [outer, index_count, inner]; element (o, j, r) reads
// x[(o * axis_len + indices[j]) * inner + r]. Indices are validated and wrapped on the host.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Indices { int indices[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; uint inner; uint index_count; uint axis_len; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint t = i / p.inner;
    uint r = i - t * p.inner;
    uint o = t / p.index_count;
    uint j = t - o * p.index_count;
    y[i] = x[(o * p.axis_len + uint(indices[j])) * p.inner + r];
}
