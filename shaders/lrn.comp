#version 450
// Cross-channel LRN (AlexNet/GoogLeNet): y = x / (bias + alpha/size * sum of x^2 over the
// channel window [c - lo, c + hi]) ^ beta. Grid: x = position within the plane, y = channel,
// z = batch (strided beyond the grid limit), so the channel window is uniform per workgroup.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params
{
    uint N; uint C; uint inner; uint lo; uint hi;
    float alphaOverSize; float beta; float bias;
} p;

void main()
{
    uint s = gl_GlobalInvocationID.x;
    if (s >= p.inner) return;
    uint c = gl_WorkGroupID.y;
    uint first = c >= p.lo ? c - p.lo : 0u;
    uint last = min(p.C - 1u, c + p.hi);
    for (uint n = gl_WorkGroupID.z; n < p.N; n += gl_NumWorkGroups.z)
    {
        uint plane0 = n * p.C * p.inner + s;   // channel 0 at this position
        afloat sum = afloat(0);
        for (uint j = first; j <= last; ++j)
        {
            afloat v = LOAD(x[plane0 + j * p.inner]);
            sum += v * v;
        }
        uint i = plane0 + c * p.inner;
        afloat base = afloat(p.bias) + afloat(p.alphaOverSize) * sum;
        y[i] = STORE(LOAD(x[i]) * exp2(-afloat(p.beta) * log2(base)));
    }
}
