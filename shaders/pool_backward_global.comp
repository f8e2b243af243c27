#version 450
// GlobalAveragePool / GlobalMaxPool backward, one dX element per invocation: average spreads
// dY / (H*W) over the plane; max gives dY to the element pool_backward_argmax selected.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint MODE = 0;   // 0 = max, 1 = average

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 1) readonly buffer Arg { int arg[]; };   // max only
layout(std430, binding = 2) buffer DX { sfloat dx[]; };
layout(push_constant) uniform Params { uint count; uint size; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint plane = i / p.size;
    afloat g = MODE == 0u
        ? (arg[plane] == int(i - plane * p.size) ? LOAD(dy[plane]) : afloat(0))
        : LOAD(dy[plane]) / afloat(p.size);
    dx[i] = STORE(LOAD(dx[i]) + g);
}
