#version 450
// MseLoss backward, one element per invocation: g = 2·(a − b)·s with s = dY_i (none), dY (sum)
// or dY / count (mean); dA += g, dB −= g for the wanted inputs.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint REDUCTION = 2;   // 0 = none, 1 = sum, 2 = mean
layout(constant_id = 5) const bool WANT_A = true;
layout(constant_id = 6) const bool WANT_B = true;

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 3) buffer DA { sfloat da[]; };
layout(std430, binding = 4) buffer DB { sfloat db[]; };
layout(push_constant) uniform Params { uint count; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    afloat s = REDUCTION == 0u ? LOAD(dy[i]) : REDUCTION == 1u ? LOAD(dy[0]) : LOAD(dy[0]) / afloat(p.count);
    afloat g = afloat(2) * (LOAD(a[i]) - LOAD(b[i])) * s;
    if (WANT_A) da[i] = STORE(LOAD(da[i]) + g);
    if (WANT_B) db[i] = STORE(LOAD(db[i]) - g);
}
