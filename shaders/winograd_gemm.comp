#version 450
// The Winograd conv's batched GEMM: for each of the T² positions (workgroup z),
// Mo[position] = V[position] (tiles x C) · U[position] (C x M). Blocked like conv_gemm: every
// invocation accumulates PX tiles x CO output channels over K = A channel blocks of 4, U packed by
// conv_gemm's weight packer (positions as groups) as [position][M block][A][4 channels][CO]. Mo is
// [position][M/4 blocks][E tiles] vec4 (4 output channels of one tile per vec4).
// Lanes cover tile blocks first, then M blocks (x = M block · tile lanes + tile lane), so a
// layer with few tiles (7x7 at batch 1: 4 tiles of F(4,3)) still fills the workgroup's lanes.
// D = tile lanes (ceil(E / PX)), F = M blocks.
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "conv_params.glsl"

#define PX 8
#define CO 16
#define CO4 (CO / 4)

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer V { sfloat4 v[]; };
layout(std430, binding = 1) readonly buffer U { sfloat4 w[]; };
layout(std430, binding = 2) writeonly buffer Mo { sfloat4 mo[]; };

void main()
{
    uint E = p.E;
    if (gl_GlobalInvocationID.x >= p.D * p.F) return;
    uint b = gl_GlobalInvocationID.x / p.D, lane = gl_GlobalInvocationID.x - b * p.D;
    uint pos = gl_WorkGroupID.z, M4 = (p.M + 3u) / 4u;
    // The tail lane repeats the last tile (its results are not stored).
    uint tile[PX];
    [[unroll]] for (uint j = 0u; j < PX; ++j) tile[j] = pos * p.A * E + min(lane * PX + j, E - 1u);
    afloat4 acc[PX][CO4];
    [[unroll]] for (uint j = 0u; j < PX; ++j)
        [[unroll]] for (uint q = 0u; q < CO4; ++q) acc[j][q] = afloat4(0);

    uint wi = (pos * p.F + b) * p.A * CO;
    for (uint cb = 0u; cb < p.A; ++cb)
    {
        afloat4 xv[PX];
        [[unroll]] for (uint j = 0u; j < PX; ++j) xv[j] = afloat4(v[tile[j] + cb * E]);
        [[unroll]] for (uint q = 0u; q < CO4; ++q)
        {
            afloat4 w0 = afloat4(w[wi + q]), w1 = afloat4(w[wi + CO4 + q]);
            afloat4 w2 = afloat4(w[wi + 2u * CO4 + q]), w3 = afloat4(w[wi + 3u * CO4 + q]);
            [[unroll]] for (uint j = 0u; j < PX; ++j)
                acc[j][q] = fma(afloat4(xv[j].w), w3, fma(afloat4(xv[j].z), w2, fma(afloat4(xv[j].y), w1, fma(afloat4(xv[j].x), w0, acc[j][q]))));
        }
        wi += CO;
    }

    [[unroll]] for (uint j = 0u; j < PX; ++j)
    {
        uint t = lane * PX + j;
        if (t < E)
            [[unroll]] for (uint q = 0u; q < CO4; ++q)
            {
                uint m4 = b * CO4 + q;
                if (m4 < M4) mo[(pos * M4 + m4) * E + t] = sfloat4(acc[j][q]);
            }
    }
}
