#version 450
// out = condition != 0 ? x : y, the three inputs broadcast NumPy-style (broadcast.glsl). The
// condition is a float tensor (bool/int masks are stored as float). VEC4 (and its single-axis
// tail) as in binary.comp.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const int RANK = 1;
layout(constant_id = 5) const bool VEC4 = false;
#include "broadcast.glsl"

layout(std430, binding = 0) readonly buffer Cond { sfloat cond[]; };
layout(std430, binding = 0) readonly buffer Cond4 { sfloat4 cond4[]; };
layout(std430, binding = 1) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 2) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Y4 { sfloat4 y4[]; };
layout(std430, binding = 3) writeonly buffer Out { sfloat outv[]; };
layout(std430, binding = 3) writeonly buffer Out4 { sfloat4 out4[]; };
layout(push_constant) uniform Params { uvec4 axes[BROADCAST_MAX_RANK]; uint count; uint elements; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    if (VEC4 && RANK == 1 && p.elements - i * 4u < 4u)
    {
        uvec3 contiguous = uvec3(notEqual(p.axes[0].yzw, uvec3(0u)));
        for (uint j = i * 4u; j < p.elements; ++j)
        {
            uvec3 o = j * contiguous;
            outv[j] = STORE(LOAD(cond[o.x]) != afloat(0) ? LOAD(x[o.y]) : LOAD(y[o.z]));
        }
        return;
    }
    uvec3 o = broadcast_offsets(i, p.axes);
    if (VEC4)
    {
        uvec4 inner = p.axes[RANK - 1];
        afloat4 c = inner.y != 0u ? afloat4(cond4[o.x >> 2]) : afloat4(LOAD(cond[o.x]));
        afloat4 a = inner.z != 0u ? afloat4(x4[o.y >> 2]) : afloat4(LOAD(x[o.y]));
        afloat4 b = inner.w != 0u ? afloat4(y4[o.z >> 2]) : afloat4(LOAD(y[o.z]));
        out4[i] = sfloat4(mix(b, a, notEqual(c, afloat4(0))));
    }
    else
    {
        outv[i] = STORE(LOAD(cond[o.x]) != afloat(0) ? LOAD(x[o.y]) : LOAD(y[o.z]));
    }
}
