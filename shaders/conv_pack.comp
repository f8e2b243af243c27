#version 450
// Input repack for conv_gemm and conv_depthwise: NCHW → [N][group][blocks][Hp][Wp] vec4, four
// channel slots of one pixel per vec4, with the zero padding written out so the conv inner loops
// are branch-free aligned vec4 loads. Slot s of group g reads channel (g * slots + s) / repeat
// (repeat > 1 duplicates channels for depthwise with a channel multiplier); missing slots are 0.
// Grid: x = padded column, y = padded row, z = (n, group, block): no integer division, which
// CPU drivers scalarise lane by lane.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Xp { sfloat4 xp[]; };
layout(push_constant) uniform PackParams
{
    uint N, C, H, W;
    uint groups, slots, blocks, repeat;
    uint Hp, Wp;
    int PT, PL;
} p;

void main()
{
    uint px = gl_GlobalInvocationID.x, py = gl_GlobalInvocationID.y, blk = gl_GlobalInvocationID.z;
    if (px >= p.Wp || py >= p.Hp) return;
    uint cb = blk % p.blocks, g = (blk / p.blocks) % p.groups, n = blk / (p.blocks * p.groups);
    int iy = int(py) - p.PT, ix = int(px) - p.PL;
    afloat4 v = afloat4(0);
    if (iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W))
    {
        uint off = uint(iy) * p.W + uint(ix), hw = p.H * p.W;
        for (uint j = 0u; j < 4u; ++j)
        {
            uint s = cb * 4u + j;
            if (s < p.slots) v[j] = LOAD(x[(n * p.C + (g * p.slots + s) / p.repeat) * hw + off]);
        }
    }
    xp[(blk * p.Hp + py) * p.Wp + px] = sfloat4(v);
}
