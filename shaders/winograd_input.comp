#version 450
// Winograd input transform for a 3x3, stride-1 conv: each invocation takes one T x T input tile
// (tiles overlap by 2; zero padding applied here) of 4 channels and writes its Bᵀ d B as T² vec4s,
// position-major: V[(position · A + channel block) · E + tile], so the GEMM over one position
// reads consecutive tiles. A = channel blocks of 4, B = tiles across, D = tiles down, E = all tiles
// (N · B · D). Grid: x = tile in the image, y = channel block, z = image.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "conv_params.glsl"
#include "winograd.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer V { sfloat4 v[]; };

void main()
{
    uint t = gl_GlobalInvocationID.x, cb = gl_WorkGroupID.y, n = gl_WorkGroupID.z;
    if (t >= p.B * p.D) return;
    uint T = TILE_M + 2u, ty = t / p.B, tx = t - ty * p.B;
    int y0 = int(ty * TILE_M) - p.PT, x0 = int(tx * TILE_M) - p.PL;
    uint hw = p.H * p.W;
    afloat4 d[WT][WT];
    [[unroll]] for (uint i = 0u; i < WT; ++i)
        [[unroll]] for (uint j = 0u; j < WT; ++j)
        {
            int iy = y0 + int(i), ix = x0 + int(j);
            // Branch-free: a clamped, valid address, and 0 selected outside the input or past the channels.
            bool inside = i < T && j < T && iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W);
            uint off = uint(clamp(iy, 0, int(p.H) - 1)) * p.W + uint(clamp(ix, 0, int(p.W) - 1));
            [[unroll]] for (uint e = 0u; e < 4u; ++e)
            {
                uint ch = cb * 4u + e;
                afloat value = LOAD(x[(n * p.C + min(ch, p.C - 1u)) * hw + off]);
                d[i][j][e] = inside && ch < p.C ? value : afloat(0);
            }
        }
    // Bᵀ d: along each column; then (Bᵀ d) B: along each row.
    [[unroll]] for (uint j = 0u; j < WT; ++j)
    {
        afloat4 col[WT];
        [[unroll]] for (uint i = 0u; i < WT; ++i) col[i] = d[i][j];
        input_1d(col);
        [[unroll]] for (uint i = 0u; i < WT; ++i) d[i][j] = col[i];
    }
    uint tile = n * p.B * p.D + t;
    [[unroll]] for (uint i = 0u; i < WT; ++i)
    {
        if (i < T)
        {
            afloat4 row[WT] = d[i];
            input_1d(row);
            [[unroll]] for (uint j = 0u; j < WT; ++j)
                if (j < T) v[((i * T + j) * p.A + cb) * p.E + tile] = sfloat4(row[j]);
        }
    }
}
