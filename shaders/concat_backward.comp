#version 450
// Concat backward: dX_i += its slot of dY. Seen as [outer, row] with row = len_i * inner, input
// i's gradient reads column `offset` of dY rows of length out_row. One dispatch per input; with
// VEC4 every quantity is counted in vec4s.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
// row, out_row and offset are multiples of 4 elements: move vec4s.
layout(constant_id = 4) const bool VEC4 = false;

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 0) readonly buffer DY4 { sfloat4 dy4[]; };
layout(std430, binding = 1) buffer DX { sfloat dx[]; };
layout(std430, binding = 1) buffer DX4 { sfloat4 dx4[]; };
layout(push_constant) uniform Params { uint count; uint row; uint out_row; uint offset; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint o = i / p.row;
    uint src = o * p.out_row + p.offset + (i - o * p.row);
    if (VEC4) dx4[i] = sfloat4(afloat4(dx4[i]) + afloat4(dy4[src]));
    else dx[i] = STORE(LOAD(dx[i]) + LOAD(dy[src]));
}
