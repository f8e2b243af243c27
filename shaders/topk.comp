#version 450
// TopK along one axis: one workgroup per row selects the K best elements one at a time. Each
// round every invocation scans its strided share of the row for the best element ranked after
// the previous pick, then the workgroup combines the candidates. The order (value, then smaller
// index first) is total, so ties come out by ascending index as ONNX specifies.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool LARGEST = true;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Values { sfloat values[]; };
layout(std430, binding = 2) writeonly buffer Indices { sfloat indices[]; };
layout(push_constant) uniform Params { uint rows; uint axisLength; uint inner; uint k; } p;

const uint NONE = 0xFFFFFFFFu;
shared afloat candidateValue[gl_WorkGroupSize.x];
shared uint candidateIndex[gl_WorkGroupSize.x];

// True when (a, ia) ranks before (b, ib); NONE ranks last.
bool before(afloat a, uint ia, afloat b, uint ib)
{
    if (ia == NONE) return false;
    if (ib == NONE) return true;
    if (a != b) return LARGEST ? a > b : a < b;
    return ia < ib;
}

void main()
{
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= p.rows) return;   // uniform across the workgroup
    uint t = gl_LocalInvocationID.x;
    uint inRow = (row / p.inner) * p.axisLength * p.inner + row % p.inner;
    uint outRow = (row / p.inner) * p.k * p.inner + row % p.inner;

    afloat lastValue = afloat(0);
    uint lastIndex = NONE;
    for (uint r = 0u; r < p.k; ++r)
    {
        afloat bestValue = afloat(0);
        uint bestIndex = NONE;
        for (uint j = t; j < p.axisLength; j += gl_WorkGroupSize.x)
        {
            afloat v = LOAD(x[inRow + j * p.inner]);
            if (lastIndex != NONE && !before(lastValue, lastIndex, v, j)) continue;   // already picked
            if (before(v, j, bestValue, bestIndex)) { bestValue = v; bestIndex = j; }
        }
        candidateValue[t] = bestValue;
        candidateIndex[t] = bestIndex;
        barrier();
        for (uint n = gl_WorkGroupSize.x; n > 1u;)
        {
            uint half_n = (n + 1u) / 2u;
            if (t < n - half_n && before(candidateValue[t + half_n], candidateIndex[t + half_n], candidateValue[t], candidateIndex[t]))
            {
                candidateValue[t] = candidateValue[t + half_n];
                candidateIndex[t] = candidateIndex[t + half_n];
            }
            barrier();
            n = half_n;
        }
        lastValue = candidateValue[0];
        lastIndex = candidateIndex[0];
        barrier();   // candidates are overwritten by the next round
        if (t == 0u)
        {
            values[outRow + r * p.inner] = STORE(lastValue);
            indices[outRow + r * p.inner] = STORE(afloat(lastIndex));
        }
    }
}
