#version 450
// ReduceSum / ReduceMean / ReduceMax / ReduceMin over any set of axes. The CPU merges the input's
// axes into at most 4 kept and 4 reduced (size, stride) dimensions, innermost last, padded with
// (1, 0). Either one invocation per output (a loop over the reduced space), or one workgroup per
// output when there are too few outputs to fill the device.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint OP = 0;          // 0 = sum, 1 = mean, 2 = max, 3 = min
layout(constant_id = 5) const bool GROUP = false;   // one workgroup per output element
#include "workgroup_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params
{
    uvec4 keptSize; uvec4 keptStride; uvec4 redSize; uvec4 redStride;
    uint outCount; uint redCount;
} p;

afloat combine(afloat a, afloat v) { return OP <= 1u ? a + v : OP == 2u ? max(a, v) : min(a, v); }

afloat identity()
{
    return OP <= 1u ? afloat(0) : afloat(uintBitsToFloat(OP == 2u ? 0xFF800000u : 0x7F800000u));   // 0, -inf, +inf
}

// Offset of the index `i` decomposed over dimensions [first, 3] of (size, stride).
uint offset_of(uint i, uvec4 size, uvec4 stride, int first)
{
    uint off = 0u;
    for (int d = 3; d >= first; --d)
    {
        off += (i % size[d]) * stride[d];
        i /= size[d];
    }
    return off;
}

void main()
{
    uint o = GROUP ? workgroup_row_index() : linear_invocation_index();
    if (o >= p.outCount) return;   // uniform across the workgroup in GROUP mode
    uint base = offset_of(o, p.keptSize, p.keptStride, 0);
    afloat acc = identity();
    if (GROUP)
    {
        uint inner = p.redSize[3], step = p.redStride[3];
        if (inner >= gl_WorkGroupSize.x)
        {
            // The workgroup sweeps each run of the innermost reduced dimension together.
            for (uint r = 0u; r < p.redCount / inner; ++r)
            {
                uint off = base + offset_of(r, uvec4(1u, p.redSize.xyz), uvec4(0u, p.redStride.xyz), 1);
                for (uint j = gl_LocalInvocationID.x; j < inner; j += gl_WorkGroupSize.x) acc = combine(acc, LOAD(x[off + j * step]));
            }
        }
        else
        {
            for (uint r = gl_LocalInvocationID.x; r < p.redCount; r += gl_WorkGroupSize.x)
                acc = combine(acc, LOAD(x[base + offset_of(r, p.redSize, p.redStride, 0)]));
        }
        acc = workgroup_reduce(acc, OP <= 1u ? 0u : OP - 1u);
        if (gl_LocalInvocationID.x != 0u) return;
    }
    else
    {
        // The innermost reduced dimension runs as a plain strided loop; the outer ones are decomposed once per run.
        uint inner = p.redSize[3], step = p.redStride[3];
        uint runs = p.redCount / inner;
        for (uint r = 0u; r < runs; ++r)
        {
            uint off = base + offset_of(r, uvec4(1u, p.redSize.xyz), uvec4(0u, p.redStride.xyz), 1);
            for (uint j = 0u; j < inner; ++j) acc = combine(acc, LOAD(x[off + j * step]));
        }
    }
    y[o] = STORE(OP == 1u ? acc / afloat(p.redCount) : acc);
}
