#version 450
// Training BatchNormalization, pass 1: per-channel batch mean and biased variance over N and the
// spatial axes, one workgroup per channel, two passes (mean, then the sum of squared deviations:
// no E[x²] − E[x]² cancellation). Each invocation sums a fixed strided subset and the workgroup
// combines them in a fixed tree, so the result is bitwise reproducible. Invocation 0 then blends
// the running statistics (ONNX momentum: running · momentum + batch · (1 − momentum), with the
// unbiased variance M/(M−1) as PyTorch keeps it, or the biased one as the ONNX spec does when
// !UNBIASED) in place (IN_PLACE) and/or into the optional running_mean / running_var outputs (OUTPUTS).
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
#include "workgroup_reduce.glsl"
#include "channel_walk.glsl"
layout(constant_id = 4) const bool IN_PLACE = false;
layout(constant_id = 5) const bool OUTPUTS = false;
layout(constant_id = 6) const bool UNBIASED = true;
layout(constant_id = 7) const bool VEC4 = false;   // planes a multiple of 4: each lane sums vec4s (a quarter of the loads)

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 2) writeonly buffer Var { float var[]; };
layout(std430, binding = 3) buffer RunMean { float run_mean[]; };   // IN_PLACE or OUTPUTS: read
layout(std430, binding = 4) buffer RunVar { float run_var[]; };
layout(std430, binding = 5) writeonly buffer OutMean { float out_mean[]; };   // OUTPUTS only
layout(std430, binding = 6) writeonly buffer OutVar { float out_var[]; };
layout(push_constant) uniform Params { uint C; uint inner; uint M; float momentum; } p;


void main()
{
    uint c = workgroup_row_index();
    if (c >= p.C) return;   // uniform across the workgroup
    // With VEC4 the walk is over vec4s: inner / 4 per plane, M / 4 in all.
    uint inner = VEC4 ? p.inner / 4u : p.inner, count = VEC4 ? p.M / 4u : p.M;
    afloat4 s4 = afloat4(0);
    ChannelWalk w = channel_walk(gl_LocalInvocationID.x, gl_WorkGroupSize.x, inner);
    for (uint t = gl_LocalInvocationID.x; t < count; t += gl_WorkGroupSize.x, channel_walk_next(w, inner))
    {
        uint i = channel_walk_index(w, p.C, c, inner);
        if (VEC4) s4 += afloat4(x4[i]); else s4.x += LOAD(x[i]);
    }
    afloat m = workgroup_sum((s4.x + s4.y) + (s4.z + s4.w)) / afloat(p.M);
    afloat4 q4 = afloat4(0);
    w = channel_walk(gl_LocalInvocationID.x, gl_WorkGroupSize.x, inner);
    for (uint t = gl_LocalInvocationID.x; t < count; t += gl_WorkGroupSize.x, channel_walk_next(w, inner))
    {
        uint i = channel_walk_index(w, p.C, c, inner);
        if (VEC4) { afloat4 d = afloat4(x4[i]) - m; q4 = fma(d, d, q4); }
        else { afloat d = LOAD(x[i]) - m; q4.x = fma(d, d, q4.x); }
    }
    afloat q = (q4.x + q4.y) + (q4.z + q4.w);
    afloat v = workgroup_sum(q) / afloat(p.M);
    if (gl_LocalInvocationID.x != 0u) return;
    mean[c] = m;
    var[c] = v;
    if (IN_PLACE || OUTPUTS)
    {
        float keep = p.momentum, take = 1.0 - p.momentum;
        float rm = run_mean[c] * keep + m * take;
        float rv = run_var[c] * keep + (UNBIASED ? v * (float(p.M) / float(p.M - 1u)) : v) * take;
        if (OUTPUTS) { out_mean[c] = rm; out_var[c] = rv; }
        if (IN_PLACE) { run_mean[c] = rm; run_var[c] = rv; }
    }
}
