#version 450
// Cross-channel LRN (AlexNet/GoogLeNet): y = x / (bias + alpha/size * sum of x^2 over the
// channel window [c - lo, c + hi]) ^ beta, one output element per invocation.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params
{
    uint count; uint C; uint inner; uint lo; uint hi;
    float alphaOverSize; float beta; float bias;
} p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint c = (i / p.inner) % p.C;
    uint plane0 = i - c * p.inner;   // same n and spatial position, channel 0
    uint first = c >= p.lo ? c - p.lo : 0u;
    uint last = min(p.C - 1u, c + p.hi);
    afloat sum = afloat(0);
    for (uint j = first; j <= last; ++j)
    {
        afloat v = LOAD(x[plane0 + j * p.inner]);
        sum += v * v;
    }
    afloat base = afloat(p.bias) + afloat(p.alphaOverSize) * sum;
    y[i] = STORE(LOAD(x[i]) * exp2(-afloat(p.beta) * log2(base)));
}
