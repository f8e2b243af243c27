#version 450
// Gemm / MatMul backward, first step: dL/dz = dY · act'(y) for the fused activation, from the
// saved output y (shaders/common/activation_backward_from_output.glsl).
#include "precision.glsl"
#include "indexing.glsl"
#include "activation_backward_from_output.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Dy { sfloat dy[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) writeonly buffer Dz { sfloat dz[]; };
layout(push_constant) uniform Params { uint count; float alpha, beta; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i < p.count) dz[i] = STORE(LOAD(dy[i]) * activation_derivative_from_output(LOAD(y[i]), p.alpha, p.beta));
}
