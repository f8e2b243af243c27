#version 450
// InstanceNormalization: one workgroup per (n, c) plane. Two passes over the plane (mean, then
// the mean of squared deviations: no cancellation), then y = (x - mean) * rstd * scale + B.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
#include "workgroup_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Scale { sfloat scale[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint planes; uint C; uint size; float epsilon; } p;

void main()
{
    uint plane = workgroup_row_index();
    if (plane >= p.planes) return;   // uniform across the workgroup
    uint base = plane * p.size;
    uint t = gl_LocalInvocationID.x;
    // Sums are taken relative to the first value, so that a large common offset does not cost precision.
    afloat pivot = LOAD(x[base]);
    afloat s = afloat(0);
    for (uint j = t; j < p.size; j += gl_WorkGroupSize.x) s += LOAD(x[base + j]) - pivot;
    afloat mean = pivot + workgroup_sum(s) / afloat(p.size);
    afloat q = afloat(0);
    for (uint j = t; j < p.size; j += gl_WorkGroupSize.x)
    {
        afloat d = LOAD(x[base + j]) - mean;
        q += d * d;
    }
    afloat variance = workgroup_sum(q) / afloat(p.size);
    uint c = plane % p.C;
    afloat a = LOAD(scale[c]) * inversesqrt(variance + afloat(p.epsilon));
    afloat b = LOAD(bias[c]) - mean * a;
    for (uint j = t; j < p.size; j += gl_WorkGroupSize.x) y[base + j] = STORE(fma(LOAD(x[base + j]), a, b));
}
