#version 450
// Input repack for conv_gemm: NCHW → [N][group][blocks][Hp][Wp] vec4, four channels of one pixel
// per vec4, with the zero padding written out so the GEMM inner loop is branch-free aligned vec4
// loads. Slot s of group g is channel g * slots + s; slots past the group's channels are 0.
// When the stride is at least the kernel extent (1x1 stride 2 …) only the rows/columns a window
// touches are kept: packed row r is input row (r / SY) * SH + r % SY (SY = extent; SY = SH keeps all).
// Grid: x = padded column, y = padded row, z = (n, group, block), so the common path has no
// per-lane integer division (CPU drivers scalarise it lane by lane).
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Xp { sfloat4 xp[]; };
layout(push_constant) uniform PackParams
{
    uint N, C, H, W;
    uint groups, slots, blocks, unused;
    uint Hp, Wp;
    int PT, PL;
    uint SY, SX, SH, SW;
} p;

void main()
{
    // blk comes from the workgroup id, so its divisions are uniform (one per workgroup, not per lane).
    uint px = gl_GlobalInvocationID.x, py = gl_GlobalInvocationID.y, blk = gl_WorkGroupID.z;
    if (px >= p.Wp || py >= p.Hp) return;
    uint cb = blk % p.blocks, g = (blk / p.blocks) % p.groups, n = blk / (p.blocks * p.groups);
    uint ry = p.SY == p.SH ? py : (py / p.SY) * p.SH + py % p.SY;
    uint rx = p.SX == p.SW ? px : (px / p.SX) * p.SW + px % p.SX;
    int iy = int(ry) - p.PT, ix = int(rx) - p.PL;
    // Branch-free: always load from a clamped, valid address and select 0 outside the input.
    bool inside = iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W);
    uint off = uint(clamp(iy, 0, int(p.H) - 1)) * p.W + uint(clamp(ix, 0, int(p.W) - 1)), hw = p.H * p.W;
    afloat4 v;
    [[unroll]] for (uint j = 0u; j < 4u; ++j)
    {
        uint s = cb * 4u + j;
        afloat value = LOAD(x[(n * p.C + g * p.slots + min(s, p.slots - 1u)) * hw + off]);
        v[j] = inside && s < p.slots ? value : afloat(0);
    }
    xp[(blk * p.Hp + py) * p.Wp + px] = sfloat4(v);
}
