#version 450
#extension GL_EXT_control_flow_attributes : require
// BatchNormalization backward, pass 2: dX += A·g + Bc·(x − mean) + Cc per element, with g = dY
// (masked by y > 0 under a fused Relu) and the per-channel coefficients of
// batch_norm_backward_reduce. One element per invocation; PLANAR and VEC4 (four per invocation)
// as in batch_norm.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool PLANAR = true;
layout(constant_id = 5) const bool RELU = false;
layout(constant_id = 6) const bool VEC4 = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Coef { float coef[]; };
layout(std430, binding = 5) buffer DX { sfloat dx[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) readonly buffer Y4 { sfloat4 y4[]; };
layout(std430, binding = 2) readonly buffer DY4 { sfloat4 dy4[]; };
layout(std430, binding = 5) buffer DX4 { sfloat4 dx4[]; };
layout(push_constant) uniform Params { uint count; uint C; uint inner; } p;

void accumulate(uint i, uint c)
{
    afloat g = LOAD(dy[i]);
    if (RELU && !(LOAD(y[i]) > afloat(0))) g = afloat(0);
    afloat d = afloat(coef[c]) * g + afloat(coef[p.C + c]) * (LOAD(x[i]) - afloat(mean[c])) + afloat(coef[2u * p.C + c]);
    dx[i] = STORE(LOAD(dx[i]) + d);
}

void main()
{
    if (PLANAR && VEC4)
    {
        uint j = gl_GlobalInvocationID.x;
        if (j * 4u >= p.inner) return;
        uint plane = gl_WorkGroupID.y, c = plane % p.C, i4 = plane * (p.inner / 4u) + j;
        afloat a = afloat(coef[c]), b = afloat(coef[p.C + c]), k = afloat(coef[2u * p.C + c]), mu = afloat(mean[c]);
        afloat4 g = afloat4(dy4[i4]);
        if (RELU)
        {
            afloat4 yv = afloat4(y4[i4]);
            [[unroll]] for (uint e = 0u; e < 4u; ++e) if (!(yv[e] > afloat(0))) g[e] = afloat(0);
        }
        afloat4 xv = afloat4(x4[i4]), d;
        [[unroll]] for (uint e = 0u; e < 4u; ++e) d[e] = a * g[e] + b * (xv[e] - mu) + k;
        dx4[i4] = sfloat4(afloat4(dx4[i4]) + d);
        return;
    }
    if (PLANAR)
    {
        uint j = gl_GlobalInvocationID.x;
        if (j >= p.inner) return;
        uint plane = gl_WorkGroupID.y;
        accumulate(plane * p.inner + j, plane % p.C);
        return;
    }
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    accumulate(i, (i / p.inner) % p.C);
}
