#version 450
// out = input broadcast to the output shape (ONNX Expand), walked as in broadcast.glsl with
// only input 0's stride used. VEC4 (and its single-axis tail) as in binary.comp.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const int RANK = 1;
layout(constant_id = 5) const bool VEC4 = false;
#include "broadcast.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { sfloat4 y4[]; };
layout(push_constant) uniform Params { uvec4 axes[BROADCAST_MAX_RANK]; uint count; uint elements; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    if (VEC4 && RANK == 1 && p.elements - i * 4u < 4u)
    {
        for (uint j = i * 4u; j < p.elements; ++j) y[j] = x[p.axes[0].y != 0u ? j : 0u];
        return;
    }
    uint o = broadcast_offsets(i, p.axes).x;
    if (VEC4)
        y4[i] = STORE4(p.axes[RANK - 1].y != 0u ? LOAD4(x4[o >> 2]) : afloat4(LOAD(x[o])));
    else
        y[i] = x[o];
}
