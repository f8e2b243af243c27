#version 450
// Max/Min backward: T[o] (+)= (X[o] == Y[o]), one dispatch per input (FIRST writes), so T counts
// the inputs that equal the output and binary_backward.comp splits the gradient among them.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const int RANK = 1;
#include "broadcast.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) buffer T { sfloat ties[]; };
layout(push_constant) uniform Params { uvec4 axes[BROADCAST_MAX_RANK]; uint count; uint elements; uint first; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    afloat hit = LOAD(x[broadcast_offsets(i, p.axes).x]) == LOAD(y[i]) ? afloat(1) : afloat(0);
    ties[i] = STORE(p.first != 0u ? hit : LOAD(ties[i]) + hit);
}
