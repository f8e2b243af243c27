#version 450
// Conv as an implicit GEMM tiled for GPUs: each workgroup computes a BM (output channels) x BN (output pixels) tile,
// stepping through K = (C/group)·KH·KW in slices of BK. Per slice, the workgroup stages the weights [BK][BM] and the
// implicit im2col of the input [BK][BN] (zero padding decided at load) in shared memory, then each invocation multiplies
// its TM x TN register tile out of it. Staging is fp32 whatever the storage; accumulation is fp32.
// Reads the raw NCHW input and [M][C/group][KH][KW] weights: no packing pass, so runtime weights (training) cost nothing
// extra. Invocation (tx, ty) owns channels ty + TY·i and pixels tx + TX·j (i < TM, j < TN): neighbouring invocations
// read neighbouring pixels (coalesced) and the same channel (a broadcast) from shared memory.
// Grid: x = pixel tiles over N·OH·OW, y = channel tiles over MG, z = group · SPLITS.
// Split-K (SPLITS > 1, for layers with too few tiles to fill a GPU): split s sums K slices [s·KS, (s+1)·KS) and writes its
// raw sums to partial[s][M][N·OH·OW] (fp32); conv_gemm_splitk adds the splits in order and applies the epilogue.
#include "precision.glsl"
#include "tiled_gemm.glsl"
#include "activation.glsl"
#include "conv_params.glsl"

layout(local_size_x = TX, local_size_y = TY, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) readonly buffer Bias { sfloat bias[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(constant_id = 4) const bool RESIDUAL = false;
layout(constant_id = 5) const uint SPLITS = 1u;
#define RESIDUAL_BINDING 4
#include "residual.glsl"
layout(std430, binding = 5) writeonly buffer Partial { float partial[]; };

void main()
{
    uint OHW = p.OH * p.OW, P = p.N * OHW, taps = p.KH * p.KW, K = p.CG * taps;
    uint g = gl_WorkGroupID.z / SPLITS, split = gl_WorkGroupID.z % SPLITS, m0 = gl_WorkGroupID.y * BM, p0 = gl_WorkGroupID.x * BN;
    // K slices of this split (A = slices per split when SPLITS > 1).
    uint kBegin = SPLITS > 1u ? min(K, split * p.A * BK) : 0u, kEnd = SPLITS > 1u ? min(K, kBegin + p.A * BK) : K;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * TX + tx;

    // The pixel each staging slot of this invocation loads (its column nn is fixed across K slices).
    uint nn = t % BN;
    uint pix = p0 + nn;
    bool pixIn = pix < P;
    uint pn = pixIn ? pix / OHW : 0u, pr = pixIn ? pix - pn * OHW : 0u;
    int iy0 = int(pr / p.OW) * int(p.SH) - p.PT, ix0 = int(pr % p.OW) * int(p.SW) - p.PL;
    uint xPlane = (pn * p.C + g * p.CG) * p.H * p.W;

    tile_clear();

    for (uint k0 = kBegin; k0 < kEnd; k0 += BK)
    {
        // Weights: slot e = t + THREADS·s holds (row mm = e / BK, k = e % BK); neighbours read neighbouring k of one row.
        [[unroll]] for (uint s = 0u; s < BM * BK / THREADS; ++s)
        {
            uint e = t + THREADS * s, mm = e / BK, kk = e % BK, m = m0 + mm, k = k0 + kk;
            As[kk][mm] = m < p.MG && k < kEnd ? LOAD(w[(g * p.MG + m) * K + k]) : afloat(0);
        }
        // Input (implicit im2col): slot e = t + THREADS·s holds (k = e / BN, pixel nn = e % BN); THREADS is a multiple of BN.
        [[unroll]] for (uint s = 0u; s < BK * BN / THREADS; ++s)
        {
            uint kk = (t + THREADS * s) / BN, k = k0 + kk;
            afloat v = afloat(0);
            if (pixIn && k < kEnd)
            {
                uint c = k / taps, tap = k - c * taps, ky = tap / p.KW, kx = tap - ky * p.KW;
                int iy = iy0 + int(ky * p.DH), ix = ix0 + int(kx * p.DW);
                if (iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W)) v = LOAD(x[xPlane + (c * p.H + uint(iy)) * p.W + uint(ix)]);
            }
            Bs[kk][nn] = v;
        }
        barrier();
        tile_multiply();
        barrier();
    }

    [[unroll]] for (uint i = 0u; i < TM; ++i)
    {
        uint mg = m0 + ty + TY * i;
        [[unroll]] for (uint j = 0u; j < TN; ++j)
        {
            uint q = p0 + tx + TX * j;
            if (mg < p.MG && q < P)
            {
                uint n = q / OHW, r = q - n * OHW, m = g * p.MG + mg, o = (n * p.M + m) * OHW + r;
                if (SPLITS > 1u) partial[split * p.M * P + o] = acc[i][j];
                else y[o] = STORE(activate(acc[i][j] + LOAD(bias[m]) + residual_at(o), p.alpha, p.beta));
            }
        }
    }
}
