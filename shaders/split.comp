#version 450
// Split: copies one output's slot out of the input. Seen as [outer, row] with
// row = len_i * inner, the output is read from column `offset` of input rows of length in_row.
// One dispatch per output; with VEC4 every quantity is counted in vec4s.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
// row, in_row and offset are multiples of 4 elements: move vec4s.
layout(constant_id = 4) const bool VEC4 = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { sfloat4 y4[]; };
layout(push_constant) uniform Params { uint count; uint row; uint in_row; uint offset; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint o = i / p.row;
    uint src = o * p.in_row + p.offset + (i - o * p.row);
    if (VEC4) y4[i] = x4[src];
    else y[i] = x[src];
}
