#version 450
// SGD with momentum / Nesterov / weight decay (PyTorch semantics, dampening 0), in place:
//   g = grad * clip + wd * p;  buf = momentum * buf + g;  g = nesterov ? g + momentum * buf : buf;  p -= lr * g
// lr and the clip scale come from the hyper-parameter buffer, so a recorded step replays with new values.
#include "indexing.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 4) const uint NESTEROV = 0;
layout(constant_id = 5) const uint USE_MOMENTUM = 0;

layout(std430, binding = 0) buffer Param { float p[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer Momentum { float buf[]; };
layout(std430, binding = 3) readonly buffer Hyper { float lr; float clip; float bc1; float bc2; } h;
layout(push_constant) uniform Params { uint count; float momentum; float weight_decay; float lr_scale; } pc;   // lr_scale: its group's

void main()
{
    uint i = linear_invocation_index();
    if (i >= pc.count) return;
    float g = grad[i] * h.clip + pc.weight_decay * p[i];
    if (USE_MOMENTUM != 0u)
    {
        float b = pc.momentum * buf[i] + g;
        buf[i] = b;
        g = NESTEROV != 0u ? g + pc.momentum * b : b;
    }
    p[i] -= h.lr * pc.lr_scale * g;
}
