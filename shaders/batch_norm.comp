#version 450
#extension GL_EXT_control_flow_attributes : require
// BatchNormalization apply: y = act(x * scale[c] + shift[c]) with scale/shift folded on the CPU
// (inference with constant parameters), or CENTERED: y = act((x - center[c]) * scale[c] + shift[c])
// with center = the batch or running mean, scale = gamma / sqrt(var + eps) from batch_norm_fold
// and shift = B (training, or runtime parameters): centring first keeps a large mean from
// cancelling digits. One FMA per element, fused activation from spec constant 3. PLANAR: x indexes
// within a channel plane and the workgroup's y is the plane, so the channel is uniform and needs
// no per-element division; otherwise a 1-D index (planes smaller than a workgroup, or too many).
// VEC4 (planar, plane size a multiple of 4): four elements per invocation, so the channel's
// constants are loaded once per four (on lavapipe every load is a per-lane loop).
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool PLANAR = true;
layout(constant_id = 5) const bool CENTERED = false;
layout(constant_id = 6) const bool VEC4 = false;
#include "activation.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) readonly buffer Shift { float shift[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 3) writeonly buffer Y4 { sfloat4 y4[]; };
layout(std430, binding = 4) readonly buffer Center { float center[]; };   // CENTERED only
layout(push_constant) uniform Params { uint count; uint C; uint inner; float alpha; float beta; } p;

afloat apply(uint i, uint c)
{
    afloat v = LOAD(x[i]);
    if (CENTERED) v -= afloat(center[c]);
    return activate(fma(v, afloat(scale[c]), afloat(shift[c])), p.alpha, p.beta);
}

void main()
{
    if (PLANAR && VEC4)
    {
        uint j = gl_GlobalInvocationID.x;
        if (j * 4u >= p.inner) return;
        uint plane = gl_WorkGroupID.y, c = plane % p.C, i4 = plane * (p.inner / 4u) + j;
        afloat sc = afloat(scale[c]), sh = afloat(shift[c]);
        afloat4 v = afloat4(x4[i4]);
        if (CENTERED) v -= afloat(center[c]);
        [[unroll]] for (uint e = 0u; e < 4u; ++e) v[e] = activate(fma(v[e], sc, sh), p.alpha, p.beta);
        y4[i4] = sfloat4(v);
        return;
    }
    if (PLANAR)
    {
        uint j = gl_GlobalInvocationID.x;
        if (j >= p.inner) return;
        uint plane = gl_WorkGroupID.y;
        uint i = plane * p.inner + j;
        y[i] = STORE(apply(i, plane % p.C));
        return;
    }
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    y[i] = STORE(apply(i, (i / p.inner) % p.C));
}
