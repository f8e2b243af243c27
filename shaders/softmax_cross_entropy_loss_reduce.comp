#version 450
// SoftmaxCrossEntropyLoss sum/mean: one workgroup adds the per-row losses, weights and bad flags
// in a fixed order (strided partial sums, then a tree: bitwise reproducible). mean divides by the
// total weight of the valid rows (ONNX/PyTorch). Any bad label makes the loss a stored NaN.
// total[0] = that weight, for the backward.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
#include "workgroup_reduce.glsl"
layout(constant_id = 4) const bool MEAN = true;

layout(std430, binding = 0) readonly buffer Loss { float loss[]; };
layout(std430, binding = 1) readonly buffer Aux { float aux[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 3) writeonly buffer Total { float total[]; };
layout(push_constant) uniform Params { uint rows; } p;

void main()
{
    float l = 0.0, w = 0.0, bad = 0.0;
    for (uint r = gl_LocalInvocationID.x; r < p.rows; r += gl_WorkGroupSize.x)
    {
        l += loss[r];
        w += aux[r];
        bad += aux[p.rows + r];
    }
    l = workgroup_sum(l);
    w = workgroup_sum(w);
    bad = workgroup_sum(bad);
    if (gl_LocalInvocationID.x != 0u) return;
    y[0] = STORE(bad > 0.0 ? uintBitsToFloat(0x7FC00000u) : MEAN ? l / w : l);
    total[0] = w;
}
