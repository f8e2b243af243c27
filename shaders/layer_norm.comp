#version 450
// LayerNormalization: one workgroup per row of the normalised axes [axis, rank). Two passes
// (mean, then the mean of squared deviations), then y = (x - mean) * rstd * scale[j] + B[j].
// With STATS the row's mean and rstd go to the optional Mean and InvStdDev outputs.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool HAS_BIAS = true;
layout(constant_id = 5) const bool STATS = false;
#include "workgroup_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Scale { sfloat scale[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 4) writeonly buffer Mean { sfloat mean_out[]; };
layout(std430, binding = 5) writeonly buffer InvStdDev { sfloat rstd_out[]; };
layout(push_constant) uniform Params { uint rows; uint size; float epsilon; } p;

void main()
{
    uint row = workgroup_row_index();
    if (row >= p.rows) return;   // uniform across the workgroup
    uint base = row * p.size;
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
    afloat rstd = inversesqrt(workgroup_sum(q) / afloat(p.size) + afloat(p.epsilon));
    if (STATS && t == 0)
    {
        mean_out[row] = STORE(mean);
        rstd_out[row] = STORE(rstd);
    }
    for (uint j = t; j < p.size; j += gl_WorkGroupSize.x)
    {
        afloat v = (LOAD(x[base + j]) - mean) * rstd * LOAD(scale[j]);
        y[base + j] = STORE(HAS_BIAS ? v + LOAD(bias[j]) : v);
    }
}
