#version 450
// BatchNormalization with runtime parameters: scale[c] = gamma[c] / sqrt(var[c] + epsilon) for
// the centred apply in batch_norm (var is the batch variance in training, the running one in eval).
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 1) readonly buffer Var { float var[]; };
layout(std430, binding = 2) writeonly buffer Scale { float scale[]; };
layout(push_constant) uniform Params { uint C; float epsilon; } p;

void main()
{
    uint c = linear_invocation_index();
    if (c >= p.C) return;
    scale[c] = gamma[c] / sqrt(var[c] + p.epsilon);
}
