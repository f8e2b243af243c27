#version 450
// BatchNormalization backward, pass 2: dX += A·g + Bc·(x − mean) + Cc per element, with g = dY
// (masked by y > 0 under a fused Relu) and the per-channel coefficients of
// batch_norm_backward_reduce. One element per invocation; PLANAR as in batch_norm.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool PLANAR = true;
layout(constant_id = 5) const bool RELU = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Coef { float coef[]; };
layout(std430, binding = 5) buffer DX { sfloat dx[]; };
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
