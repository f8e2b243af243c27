#version 450
// Dropout backward: dX += dY · keep · scale with the forward's mask recomputed from the same
// (seed, step, index) hash (the step buffer must still hold the forward's step); ACTIVE = false
// (eval, identity): dX += dY.
#include "precision.glsl"
#include "indexing.glsl"
#include "dropout_hash.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool ACTIVE = true;

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 1) readonly buffer Step { uint step[]; };
layout(std430, binding = 2) buffer DX { sfloat dx[]; };
layout(push_constant) uniform Params { uint count; uint seed; uint threshold; float scale; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    afloat g = LOAD(dy[i]);
    if (ACTIVE) g = dropout_keep(p.seed, step[0], i, p.threshold) ? g * afloat(p.scale) : afloat(0);
    dx[i] = STORE(LOAD(dx[i]) + g);
}
