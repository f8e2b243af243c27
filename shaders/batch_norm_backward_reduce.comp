#version 450
// BatchNormalization backward, pass 1, one workgroup per channel (fixed-order sums):
// g = dY (masked by y > 0 under a fused Relu), sg = Σ g, sxh = Σ g · x̂ with x̂ = (x − mean)·invstd.
// Adds sxh to dgamma and sg to dbeta when wanted, and leaves per-channel coefficients for
// batch_norm_backward_input, dX = A·g + Bc·(x − mean) + Cc, with A = gamma·invstd and, in
// training (the mean and variance depend on x), Bc = −A·invstd·sxh/M, Cc = −A·sg/M; else 0.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
#include "workgroup_reduce.glsl"
#include "channel_walk.glsl"
layout(constant_id = 4) const bool TRAINING = true;
layout(constant_id = 5) const bool RELU = false;
layout(constant_id = 6) const bool WANT_DGAMMA = false;
layout(constant_id = 7) const bool WANT_DBETA = false;
layout(constant_id = 8) const bool VEC4 = false;   // planes a multiple of 4: each lane sums vec4s

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) readonly buffer Y4 { sfloat4 y4[]; };
layout(std430, binding = 2) readonly buffer DY4 { sfloat4 dy4[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Var { float var[]; };
layout(std430, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 6) writeonly buffer Coef { float coef[]; };   // [3, C]: A, Bc, Cc
layout(std430, binding = 7) buffer DGamma { float dgamma[]; };
layout(std430, binding = 8) buffer DBeta { float dbeta[]; };
layout(push_constant) uniform Params { uint C; uint inner; uint M; float epsilon; } p;

void main()
{
    uint c = workgroup_row_index();
    if (c >= p.C) return;   // uniform across the workgroup
    afloat m = afloat(mean[c]);
    afloat4 sg4 = afloat4(0), sgx4 = afloat4(0);
    uint inner = VEC4 ? p.inner / 4u : p.inner, count = VEC4 ? p.M / 4u : p.M;
    ChannelWalk w = channel_walk(gl_LocalInvocationID.x, gl_WorkGroupSize.x, inner);
    for (uint t = gl_LocalInvocationID.x; t < count; t += gl_WorkGroupSize.x, channel_walk_next(w, inner))
    {
        uint i = channel_walk_index(w, p.C, c, inner);
        if (VEC4)
        {
            afloat4 g = afloat4(dy4[i]);
            if (RELU) { afloat4 yv = afloat4(y4[i]); for (uint e = 0u; e < 4u; ++e) if (!(yv[e] > afloat(0))) g[e] = afloat(0); }
            sg4 += g;
            sgx4 = fma(g, afloat4(x4[i]) - m, sgx4);
        }
        else
        {
            afloat g = LOAD(dy[i]);
            if (RELU && !(LOAD(y[i]) > afloat(0))) g = afloat(0);
            sg4.x += g;
            sgx4.x = fma(g, LOAD(x[i]) - m, sgx4.x);
        }
    }
    afloat sg = (sg4.x + sg4.y) + (sg4.z + sg4.w), sgx = (sgx4.x + sgx4.y) + (sgx4.z + sgx4.w);
    sg = workgroup_sum(sg);
    sgx = workgroup_sum(sgx);
    if (gl_LocalInvocationID.x != 0u) return;
    afloat invstd = afloat(1) / sqrt(afloat(var[c]) + afloat(p.epsilon));
    afloat sxh = sgx * invstd;
    afloat a = afloat(gamma[c]) * invstd;
    coef[c] = a;
    coef[p.C + c] = TRAINING ? -a * invstd * sxh / afloat(p.M) : afloat(0);
    coef[2u * p.C + c] = TRAINING ? -a * sg / afloat(p.M) : afloat(0);
    if (WANT_DGAMMA) dgamma[c] += sxh;
    if (WANT_DBETA) dbeta[c] += sg;
}
