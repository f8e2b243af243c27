#version 450
// Winograd weight transform on the GPU, for weights that change every run (training): U = G g Gᵀ
// for one (output channel m, input channel c) per invocation, written as [position][M][C]; the
// conv GEMM's weight packer (conv_pack_weights, positions as groups) then lays it out for
// winograd_gemm. Constant weights are transformed once on the CPU in double instead
// (Ops/ConvWinograd.cs).
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "indexing.glsl"
#include "conv_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint TILE_M = 2;

layout(std430, binding = 0) readonly buffer W { sfloat w[]; };
layout(std430, binding = 1) writeonly buffer U { sfloat u[]; };

const float G4[4][3] = { { 1.0, 0.0, 0.0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0.0, 0.0, 1.0 } };
const float G6[6][3] = {
    { 1.0 / 4.0, 0.0, 0.0 }, { -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0 }, { -1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0 },
    { 1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0 }, { 1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0 }, { 0.0, 0.0, 1.0 } };

float g_at(uint i, uint j) { return TILE_M == 2u ? G4[min(i, 3u)][j] : G6[i][j]; }

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.M * p.C) return;
    uint m = i / p.C, c = i - m * p.C, T = TILE_M + 2u;
    float g[3][3];
    [[unroll]] for (uint r = 0u; r < 3u; ++r)
        [[unroll]] for (uint s = 0u; s < 3u; ++s) g[r][s] = float(LOAD(w[(i * 3u + r) * 3u + s]));
    [[unroll]] for (uint a = 0u; a < 6u; ++a)
    {
        if (a >= T) break;
        float row[3];   // (G g)[a][·]
        [[unroll]] for (uint s = 0u; s < 3u; ++s) row[s] = g_at(a, 0u) * g[0][s] + g_at(a, 1u) * g[1][s] + g_at(a, 2u) * g[2][s];
        [[unroll]] for (uint b = 0u; b < 6u; ++b)
        {
            if (b >= T) break;
            u[((a * T + b) * p.M + m) * p.C + c] = STORE(row[0] * g_at(b, 0u) + row[1] * g_at(b, 1u) + row[2] * g_at(b, 2u));
        }
    }
}
