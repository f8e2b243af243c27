#version 450
// Adam / AdamW (PyTorch semantics), in place. Bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t
// are computed on the host per step and read from the hyper-parameter buffer with lr and clip.
//   Adam:  g += wd * p        AdamW: p *= 1 - lr * wd
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
#include "indexing.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 4) const uint DECOUPLED = 0;

layout(std430, binding = 0) buffer Param { float p[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer Hyper { float lr; float clip; float bc1; float bc2; } h;
layout(push_constant) uniform Params { uint count; float beta1; float beta2; float eps; float weight_decay; float lr_scale; } pc;

void main()
{
    uint i = linear_invocation_index();
    if (i >= pc.count) return;
    float param = p[i], lr = h.lr * pc.lr_scale;   // lr_scale: the parameter's group
    float g = grad[i] * h.clip;
    if (DECOUPLED != 0u) param *= 1.0 - lr * pc.weight_decay;
    else g += pc.weight_decay * param;
    float mi = pc.beta1 * m[i] + (1.0 - pc.beta1) * g;
    float vi = pc.beta2 * v[i] + (1.0 - pc.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = param - lr * (mi / h.bc1) / (sqrt(vi / h.bc2) + pc.eps);
}
