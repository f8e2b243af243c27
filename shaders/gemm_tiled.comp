#version 450
// Y = act(alpha · A·B + beta · C) tiled for GPUs, the shared-memory twin of gemm_blocked (same bindings and push
// constants): each 16x16 workgroup computes a 64x64 block of Y, staging 16-deep slices of A [BK][BM] and B [BK][BN] in
// shared memory, each invocation a 4x4 register tile. A, B and C are read through their strides (transposes, broadcast
// C, repacked B alike); batches (workgroup z) start at batch_offsets. ACCUMULATE (gradients): y += alpha · A·B.
// Grid: x = column tiles over N, y = row tiles over M, z = batch.
#include "precision.glsl"
#include "tiled_gemm.glsl"
#include "activation.glsl"

layout(local_size_x = TX, local_size_y = TY, local_size_z = 1) in;
layout(constant_id = 4) const bool HAS_C = false;
layout(constant_id = 5) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) readonly buffer C { sfloat c[]; };
layout(std430, binding = 3) readonly buffer Batches { int batch_offsets[]; };
layout(std430, binding = 4) buffer Y { sfloat y[]; };

layout(push_constant) uniform Params
{
    uint M, N, K;
    uint a_row, a_col;  // A strides along m and k
    uint b_row, b_col;  // B strides along k and n
    uint c_row, c_col;  // C strides along m and n, 0 where C broadcasts
    float alpha, beta, act_alpha, act_beta;
} p;

void main()
{
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN, batch = gl_WorkGroupID.z;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * TX + tx;
    uint a_base = uint(batch_offsets[2u * batch]), b_base = uint(batch_offsets[2u * batch + 1u]);

    tile_clear();

    for (uint k0 = 0u; k0 < p.K; k0 += BK)
    {
        // A: slot (row mm = e / BK, k = e % BK); neighbours read neighbouring k of one row.
        [[unroll]] for (uint s = 0u; s < BM * BK / THREADS; ++s)
        {
            uint e = t + THREADS * s, mm = e / BK, kk = e % BK, m = m0 + mm, k = k0 + kk;
            As[kk][mm] = m < p.M && k < p.K ? LOAD(a[a_base + m * p.a_row + k * p.a_col]) : afloat(0);
        }
        // B: slot (k = e / BN, column nn = e % BN); neighbours read neighbouring columns of one row.
        [[unroll]] for (uint s = 0u; s < BK * BN / THREADS; ++s)
        {
            uint e = t + THREADS * s, kk = e / BN, nn = e % BN, n = n0 + nn, k = k0 + kk;
            Bs[kk][nn] = n < p.N && k < p.K ? LOAD(b[b_base + k * p.b_row + n * p.b_col]) : afloat(0);
        }
        barrier();
        tile_multiply();
        barrier();
    }

    [[unroll]] for (uint i = 0u; i < TM; ++i)
    {
        uint m = m0 + ty + TY * i;
        [[unroll]] for (uint j = 0u; j < TN; ++j)
        {
            uint n = n0 + tx + TX * j;
            if (m < p.M && n < p.N)
            {
                afloat v = acc[i][j] * p.alpha;
                uint o = (batch * p.M + m) * p.N + n;
                if (ACCUMULATE) y[o] = STORE(LOAD(y[o]) + v);
                else
                {
                    if (HAS_C) v += p.beta * LOAD(c[m * p.c_row + n * p.c_col]);
                    y[o] = STORE(activate(v, p.act_alpha, p.act_beta));
                }
            }
        }
    }
}
