#version 450
// GlobalAveragePool / GlobalMaxPool: one workgroup per (n, c); invocations stride over the
// H*W plane (neighbours read neighbouring addresses) and combine through shared memory.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
#include "workgroup_reduce.glsl"   // after the workgroup size: it sizes shared memory by it
layout(constant_id = 4) const uint MODE = 0;   // 0 = max, 1 = average

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint planes; uint size; } p;

void main()
{
    uint plane = workgroup_row_index();
    if (plane >= p.planes) return;   // uniform across the workgroup
    uint base = plane * p.size;
    afloat acc = MODE == 0u ? afloat(uintBitsToFloat(0xFF800000u)) : afloat(0);
    for (uint j = gl_LocalInvocationID.x; j < p.size; j += gl_WorkGroupSize.x)
    {
        afloat v = LOAD(x[base + j]);
        acc = MODE == 0u ? max(acc, v) : acc + v;
    }
    afloat r = MODE == 0u ? workgroup_max(acc) : workgroup_sum(acc);
    if (gl_LocalInvocationID.x == 0u) y[plane] = STORE(MODE == 0u ? r : r / afloat(p.size));
}
