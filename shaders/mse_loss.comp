#version 450
// MseLoss forward. none: (a − b)² per element, one invocation each. sum / mean: ONE workgroup
// adds (a − b)² in a fixed order (strided partial sums, then a tree), so the loss is bitwise
// reproducible; mean divides by the element count.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
#include "workgroup_reduce.glsl"
layout(constant_id = 4) const uint REDUCTION = 2;   // 0 = none, 1 = sum, 2 = mean

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; } p;

void main()
{
    if (REDUCTION == 0u)
    {
        uint i = linear_invocation_index();
        if (i >= p.count) return;
        afloat d = LOAD(a[i]) - LOAD(b[i]);
        y[i] = STORE(d * d);
        return;
    }
    afloat s = afloat(0);
    for (uint i = gl_LocalInvocationID.x; i < p.count; i += gl_WorkGroupSize.x)
    {
        afloat d = LOAD(a[i]) - LOAD(b[i]);
        s = fma(d, d, s);
    }
    s = workgroup_sum(s);
    if (gl_LocalInvocationID.x == 0u) y[0] = STORE(REDUCTION == 2u ? s / afloat(p.count) : s);
}
