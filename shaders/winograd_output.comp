#version 450
// Winograd output transform: each invocation reads the T² GEMM results of one tile and 4 output
// channels (Mo[(position · M/4 + block) · E + tile]), computes Aᵀ m A (TILE_M x TILE_M pixels),
// adds the bias (and a fused residual), applies the fused activation and stores what lies inside
// the output.
// B = tiles across, D = tiles down, E = all tiles. Grid: x = tile in the image, y = block of 4
// output channels, z = image.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "activation.glsl"
#include "conv_params.glsl"
#include "winograd.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Mo { sfloat4 mo[]; };
layout(std430, binding = 1) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(constant_id = 5) const bool RESIDUAL = false;
#define RESIDUAL_BINDING 3
#include "residual.glsl"

void main()
{
    uint t = gl_GlobalInvocationID.x, mq = gl_WorkGroupID.y, n = gl_WorkGroupID.z;
    if (t >= p.B * p.D) return;
    uint T = TILE_M + 2u, M4 = (p.M + 3u) / 4u, tile = n * p.B * p.D + t;
    afloat4 m[WT][WT];
    [[unroll]] for (uint i = 0u; i < WT; ++i)
        [[unroll]] for (uint j = 0u; j < WT; ++j)
            m[i][j] = i < T && j < T ? afloat4(mo[((i * T + j) * M4 + mq) * p.E + tile]) : afloat4(0);
    // Aᵀ m: along each column; then (Aᵀ m) A: along each row.
    [[unroll]] for (uint j = 0u; j < WT; ++j)
    {
        afloat4 col[WT];
        [[unroll]] for (uint i = 0u; i < WT; ++i) col[i] = m[i][j];
        output_1d(col);
        [[unroll]] for (uint i = 0u; i < WT; ++i) m[i][j] = col[i];
    }
    uint ty = t / p.B, tx = t - ty * p.B, ohw = p.OH * p.OW;
    afloat4 b4;
    [[unroll]] for (uint e = 0u; e < 4u; ++e) b4[e] = LOAD(bias[min(mq * 4u + e, p.M - 1u)]);
    [[unroll]] for (uint i = 0u; i < WT; ++i)
    {
        uint oy = ty * TILE_M + i;
        if (i < TILE_M && oy < p.OH)
        {
            afloat4 row[WT] = m[i];
            output_1d(row);
            [[unroll]] for (uint j = 0u; j < WT; ++j)
            {
                uint ox = tx * TILE_M + j;
                if (j < TILE_M && ox < p.OW)
                    [[unroll]] for (uint e = 0u; e < 4u; ++e)
                    {
                        uint ch = mq * 4u + e, o = (n * p.M + ch) * ohw + oy * p.OW + ox;
                        if (ch < p.M) y[o] = STORE(activate(row[j][e] + b4[e] + residual_at(o), p.alpha, p.beta));
                    }
            }
        }
    }
}
