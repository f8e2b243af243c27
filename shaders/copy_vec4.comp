#version 450
// Device-memory bandwidth probe: dst = src with vec4 loads and stores.
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Src { vec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { vec4 dst[]; };
layout(push_constant) uniform Params { uint count4; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count4) return;
    dst[i] = src[i];
}
