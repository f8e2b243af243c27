#version 450
// Y = act(alpha * A·B + beta * C), register-blocked: each invocation computes ROWS x 4·COLS4 outputs
// and walks K four at a time, loading vec4s of B (and of A when its rows allow). On lavapipe
// this beats shared-memory tiling. Rows past M and columns past N are clamped on load (their
// results are discarded), so ragged sizes need no branches in the inner loop.
// Batches (workgroup z) start at the A/B element offsets in batch_offsets. A and B are read
// through (row, column) strides, so transposed operands need no copy (the backward products).
// ACCUMULATE (gradients): y += alpha * A·B, no C or activation.
#include "precision.glsl"
#include "activation.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint ROWS = 4;        // output rows per invocation: 1 to 8
layout(constant_id = 5) const bool A_VEC4 = false;  // A rows contiguous, K and row starts multiples of 4
layout(constant_id = 6) const bool B_VEC4 = false;  // B rows contiguous, pitch and starts multiples of 4, columns padded to 4
layout(constant_id = 7) const bool HAS_C = false;
layout(constant_id = 8) const bool Y_VEC4 = false;  // N % 4 == 0
layout(constant_id = 9) const bool ACCUMULATE = false;
layout(constant_id = 10) const uint COLS4 = 1;      // vec4 column blocks per invocation: 1 or 2 (more FMAs per load)

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 0) readonly buffer A4 { sfloat4 a4[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 1) readonly buffer B4 { sfloat4 b4[]; };
layout(std430, binding = 2) readonly buffer C { sfloat c[]; };
layout(std430, binding = 3) readonly buffer Batches { int batch_offsets[]; };
layout(std430, binding = 4) buffer Y { sfloat y[]; };
layout(std430, binding = 4) buffer Y4 { sfloat4 y4[]; };

layout(push_constant) uniform Params
{
    uint M, N, K;
    uint a_row, a_col;  // A strides along m and k
    uint b_row, b_col;  // B strides along k and n
    uint c_row, c_col;  // C strides along m and n, 0 where C broadcasts
    float alpha, beta, act_alpha, act_beta;
} p;

uint cols[8];
uint n0;

// Columns n0 + 4q … n0 + 4q + 3 of B row `row`; a block wholly past the (padded) columns is zero (discarded).
afloat4 load_b(uint row, uint q)
{
    if (B_VEC4) return n0 + 4u * q < ((p.N + 3u) & ~3u) ? afloat4(b4[(row + n0 + 4u * q) >> 2]) : afloat4(0);
    return afloat4(LOAD(b[row + cols[4u * q] * p.b_col]), LOAD(b[row + cols[4u * q + 1u] * p.b_col]),
                   LOAD(b[row + cols[4u * q + 2u] * p.b_col]), LOAD(b[row + cols[4u * q + 3u] * p.b_col]));
}

afloat4 load_a(uint row, uint k)
{
    if (A_VEC4) return afloat4(a4[(row + k) >> 2]);
    return afloat4(LOAD(a[row + k * p.a_col]), LOAD(a[row + (k + 1u) * p.a_col]),
                   LOAD(a[row + (k + 2u) * p.a_col]), LOAD(a[row + (k + 3u) * p.a_col]));
}

void main()
{
    n0 = gl_GlobalInvocationID.x * 4u * COLS4;
    uint m0 = gl_GlobalInvocationID.y * ROWS;
    uint batch = gl_WorkGroupID.z;
    if (n0 >= p.N || m0 >= p.M) return;
    uint a_base = uint(batch_offsets[2u * batch]);
    uint b_base = uint(batch_offsets[2u * batch + 1u]);
    // Packed B has padded columns to read; otherwise columns past N repeat column N - 1.
    for (uint j = 0u; j < 4u * COLS4; ++j) cols[j] = B_VEC4 ? n0 + j : min(n0 + j, p.N - 1u);

    uint rows[ROWS];
    afloat4 acc[ROWS][COLS4];
    for (uint r = 0u; r < ROWS; ++r)
    {
        rows[r] = a_base + min(m0 + r, p.M - 1u) * p.a_row;
        for (uint q = 0u; q < COLS4; ++q) acc[r][q] = afloat4(0);
    }

    uint k = 0u;
    uint k4 = p.K & ~3u;
    for (; k < k4; k += 4u)
    {
        uint brow = b_base + k * p.b_row;
        afloat4 av[ROWS];
        for (uint r = 0u; r < ROWS; ++r) av[r] = load_a(rows[r], k);
        for (uint q = 0u; q < COLS4; ++q)
        {
            afloat4 b0 = load_b(brow, q);
            afloat4 b1 = load_b(brow + p.b_row, q);
            afloat4 b2 = load_b(brow + 2u * p.b_row, q);
            afloat4 b3 = load_b(brow + 3u * p.b_row, q);
            for (uint r = 0u; r < ROWS; ++r)
            {
                acc[r][q] = fma(av[r].xxxx, b0, acc[r][q]);
                acc[r][q] = fma(av[r].yyyy, b1, acc[r][q]);
                acc[r][q] = fma(av[r].zzzz, b2, acc[r][q]);
                acc[r][q] = fma(av[r].wwww, b3, acc[r][q]);
            }
        }
    }
    for (; k < p.K; ++k)
        for (uint q = 0u; q < COLS4; ++q)
        {
            afloat4 bv = load_b(b_base + k * p.b_row, q);
            for (uint r = 0u; r < ROWS; ++r)
                acc[r][q] = fma(afloat4(LOAD(a[rows[r] + k * p.a_col])), bv, acc[r][q]);
        }

    for (uint r = 0u; r < ROWS; ++r)
    {
        uint m = m0 + r;
        if (m >= p.M) break;
        for (uint q = 0u; q < COLS4; ++q)
        {
            uint nq = n0 + 4u * q;
            if (nq >= p.N) break;
            afloat4 v = acc[r][q] * p.alpha;
            for (uint j = 0u; j < 4u; ++j)
            {
                if (HAS_C) v[j] += p.beta * LOAD(c[m * p.c_row + min(nq + j, p.N - 1u) * p.c_col]);
                v[j] = activate(v[j], p.act_alpha, p.act_beta);
            }
            uint out_index = (batch * p.M + m) * p.N + nq;
            if (Y_VEC4) y4[out_index >> 2] = sfloat4(ACCUMULATE ? afloat4(y4[out_index >> 2]) + v : v);
            else
                for (uint j = 0u; j < 4u && nq + j < p.N; ++j) y[out_index + j] = STORE(ACCUMULATE ? LOAD(y[out_index + j]) + v[j] : v[j]);
        }
    }
}
