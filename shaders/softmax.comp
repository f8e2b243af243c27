#version 450
// Softmax / LogSoftmax along one axis, numerically stable (the row max is subtracted first).
// The tensor is viewed as [outer, n, inner]: row r = (o, i) holds n elements `inner` apart, so an
// axis that is not last needs no transpose. PER_WORKGROUP: one workgroup per row (long rows,
// shared-memory reductions; the workgroup size must be a power of two); otherwise one
// invocation per row (short rows; neighbours read neighbouring columns when inner > 1).
// Softmax stores exp(x - max) in the first sweep and rescales it in place, so exp runs once.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool LOG = false;
layout(constant_id = 5) const bool PER_WORKGROUP = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint rows; uint n; uint inner; } p;

shared afloat partial[gl_WorkGroupSize.x];

const afloat LOWEST = afloat(-3.402823466e38);

afloat workgroup_reduce(afloat v, bool is_max)
{
    uint t = gl_LocalInvocationID.x;
    partial[t] = v;
    barrier();
    for (uint half_size = gl_WorkGroupSize.x / 2u; half_size > 0u; half_size >>= 1)
    {
        if (t < half_size) partial[t] = is_max ? max(partial[t], partial[t + half_size]) : partial[t] + partial[t + half_size];
        barrier();
    }
    afloat r = partial[0];
    barrier(); // partial[] is reused by the next reduction
    return r;
}

void main()
{
    uint row, first, step;
    if (PER_WORKGROUP)
    {
        row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
        if (row >= p.rows) return; // uniform across the workgroup
        first = gl_LocalInvocationID.x;
        step = gl_WorkGroupSize.x;
    }
    else
    {
        row = linear_invocation_index();
        if (row >= p.rows) return;
        first = 0u;
        step = 1u;
    }
    uint outer = row / p.inner;
    uint base = outer * p.n * p.inner + (row - outer * p.inner);

    afloat m = LOWEST;
    for (uint k = first; k < p.n; k += step) m = max(m, LOAD(x[base + k * p.inner]));
    if (PER_WORKGROUP) m = workgroup_reduce(m, true);

    afloat s = afloat(0);
    for (uint k = first; k < p.n; k += step)
    {
        afloat e = exp(LOAD(x[base + k * p.inner]) - m);
        if (!LOG) y[base + k * p.inner] = STORE(e);
        s += e;
    }
    if (PER_WORKGROUP) s = workgroup_reduce(s, false);

    // Each invocation rescales only what it wrote itself, so no barrier is needed.
    if (LOG)
    {
        // (x - m) - log(s), not x - (m + log(s)): with |m| large the sum would round away log(s)'s digits.
        afloat log_s = log(s);
        for (uint k = first; k < p.n; k += step) y[base + k * p.inner] = STORE((LOAD(x[base + k * p.inner]) - m) - log_s);
    }
    else
    {
        afloat inv = afloat(1) / s;
        for (uint k = first; k < p.n; k += step) y[base + k * p.inner] = STORE(LOAD(y[base + k * p.inner]) * inv);
    }
}
