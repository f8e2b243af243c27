#version 450
// Conv weight gradient tiled for GPUs (the backward of conv_gemm_tiled): dW[m, c, ky, kx] += Σ over output pixels
// (n, oy, ox) of dz[n, m, oy, ox] · x[n, c, oy·SH − PT + ky·DH, ox·SW − PL + kx·DW].
// A GEMM of [MG output channels] x [CG·KH·KW taps] over K = N·OH·OW, split into SPLITS runs of whole 16-pixel slices
// (A slices each) because K is deep and the output small: each workgroup stages dz [BK][BM] and the input at its 64 taps
// [BK][BN] in shared memory, each invocation owns a 4x4 register tile. With one split it adds straight into dW; else
// split s writes partial[s][dW] and conv_backward_reduce adds the splits in order. Deterministic, no atomics.
// Grid: x = tap tiles over CG·KH·KW, y = channel tiles over MG, z = group · SPLITS. dz is NCHW (conv_backward_dy).
#include "precision.glsl"
#include "tiled_gemm.glsl"
#include "conv_params.glsl"

layout(local_size_x = TX, local_size_y = TY, local_size_z = 1) in;
layout(constant_id = 4) const uint SPLITS = 1u;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Dz { sfloat dz[]; };
layout(std430, binding = 2) buffer Out { sfloat o[]; };

void main()
{
    uint OHW = p.OH * p.OW, P = p.N * OHW, taps = p.KH * p.KW, T = p.CG * taps;
    uint g = gl_WorkGroupID.z / SPLITS, split = gl_WorkGroupID.z % SPLITS, m0 = gl_WorkGroupID.y * BM, t0 = gl_WorkGroupID.x * BN;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * TX + tx;
    uint kBegin = SPLITS > 1u ? min(P, split * p.A * BK) : 0u, kEnd = SPLITS > 1u ? min(P, kBegin + p.A * BK) : P;

    // The tap (c, ky, kx) this invocation stages for every pixel slice.
    uint nn = t % BN, tap = t0 + nn;
    bool tapIn = tap < T;
    uint c = tapIn ? tap / taps : 0u, rest = tapIn ? tap - c * taps : 0u, ky = rest / p.KW, kx = rest - ky * p.KW;
    int dyOff = int(ky * p.DH) - p.PT, dxOff = int(kx * p.DW) - p.PL;

    tile_clear();

    for (uint k0 = kBegin; k0 < kEnd; k0 += BK)
    {
        // dz: slot (row mm = e / BK, pixel k = e % BK): neighbours read neighbouring pixels of one channel.
        [[unroll]] for (uint s = 0u; s < BM * BK / THREADS; ++s)
        {
            uint e = t + THREADS * s, mm = e / BK, kk = e % BK, m = m0 + mm, k = k0 + kk;
            afloat v = afloat(0);
            if (m < p.MG && k < kEnd)
            {
                uint n = k / OHW, r = k - n * OHW;
                v = LOAD(dz[(n * p.M + g * p.MG + m) * OHW + r]);
            }
            As[kk][mm] = v;
        }
        // The input under this invocation's tap at each output pixel k of the slice (zero in the padding).
        [[unroll]] for (uint s = 0u; s < BK * BN / THREADS; ++s)
        {
            uint kk = (t + THREADS * s) / BN, k = k0 + kk;
            afloat v = afloat(0);
            if (tapIn && k < kEnd)
            {
                uint n = k / OHW, r = k - n * OHW, oy = r / p.OW, ox = r - oy * p.OW;
                int iy = int(oy * p.SH) + dyOff, ix = int(ox * p.SW) + dxOff;
                if (iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W))
                    v = LOAD(x[((n * p.C + g * p.CG + c) * p.H + uint(iy)) * p.W + uint(ix)]);
            }
            Bs[kk][nn] = v;
        }
        barrier();
        tile_multiply();
        barrier();
    }

    uint size = p.M * T;
    [[unroll]] for (uint i = 0u; i < TM; ++i)
    {
        uint mg = m0 + ty + TY * i;
        [[unroll]] for (uint j = 0u; j < TN; ++j)
        {
            uint q = t0 + tx + TX * j;
            if (mg < p.MG && q < T)
            {
                uint k = (g * p.MG + mg) * T + q;
                if (SPLITS > 1u) o[split * size + k] = STORE(acc[i][j]);
                else o[k] = STORE(LOAD(o[k]) + acc[i][j]);
            }
        }
    }
}
