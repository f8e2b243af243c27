#version 450
// GlobalAveragePool / GlobalMaxPool: one invocation per (n, c) loops over its H*W plane.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint MODE = 0;   // 0 = max, 1 = average

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint planes; uint size; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.planes) return;
    uint base = i * p.size;
    afloat acc = MODE == 0u ? afloat(uintBitsToFloat(0xFF800000u)) : afloat(0);
    for (uint j = 0u; j < p.size; ++j)
    {
        afloat v = LOAD(x[base + j]);
        acc = MODE == 0u ? max(acc, v) : acc + v;
    }
    y[i] = STORE(MODE == 0u ? acc : acc / afloat(p.size));
}
