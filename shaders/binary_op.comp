#version 450
// Elementwise binary op over two equally shaped tensors: C = A op B.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
// 0 = add, 1 = mul (BinaryOpKind in Ops/BinaryOp.cs).
layout(constant_id = 4) const uint OP = 0;

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) writeonly buffer C { sfloat c[]; };
layout(push_constant) uniform Params { uint count; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    afloat x = LOAD(a[i]);
    afloat y = LOAD(b[i]);
    c[i] = STORE(OP == 0u ? x + y : x * y);
}
