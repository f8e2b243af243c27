#version 450
// Training Dropout: y = x · keep · scale with scale = 1 / (1 − ratio), keep from dropout_hash.glsl;
// the step is read from a 1-element buffer the trainer rewrites between replays. ACTIVE = false
// (eval) copies x. WRITE_MASK also stores ONNX's mask output (1 = kept) as float.
#include "precision.glsl"
#include "indexing.glsl"
#include "dropout_hash.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool ACTIVE = true;
layout(constant_id = 5) const bool WRITE_MASK = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Step { uint step[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 3) writeonly buffer Mask { sfloat mask[]; };
layout(push_constant) uniform Params { uint count; uint seed; uint threshold; float scale; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    bool keep = !ACTIVE || dropout_keep(p.seed, step[0], i, p.threshold);
    afloat v = LOAD(x[i]);
    y[i] = STORE(ACTIVE ? (keep ? v * afloat(p.scale) : afloat(0)) : v);
    if (WRITE_MASK) mask[i] = STORE(keep ? afloat(1) : afloat(0));
}
