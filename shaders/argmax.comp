#version 450
// ArgMax / ArgMin along one axis, one output per invocation; the index is stored as a float.
// Ties go to the first index, or to the last with select_last_index.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool MINIMUM = false;
layout(constant_id = 5) const bool LAST = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint outCount; uint axisLength; uint inner; } p;

void main()
{
    uint o = linear_invocation_index();
    if (o >= p.outCount) return;
    uint base = (o / p.inner) * p.axisLength * p.inner + o % p.inner;
    afloat best = LOAD(x[base]);
    uint bestIndex = 0u;
    for (uint j = 1u; j < p.axisLength; ++j)
    {
        afloat v = LOAD(x[base + j * p.inner]);
        bool better = MINIMUM ? (LAST ? v <= best : v < best) : (LAST ? v >= best : v > best);
        if (better) { best = v; bestIndex = j; }
    }
    y[o] = STORE(afloat(bestIndex));
}
