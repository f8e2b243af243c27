#version 450
// Conv input gradient tiled for GPUs (the backward of conv_gemm_tiled): dX[n, c, iy, ix] += Σ over (m, ky, kx) of
// w[m, c, ky, kx] · dz[n, m, oy, ox] where oy·SH = iy + PT − ky·DH and ox·SW = ix + PL − kx·DW land on the output grid.
// A GEMM of [CG input channels] x [N·H·W input pixels] over K = MG·KH·KW: each workgroup stages 16-deep K slices of the
// weights [BK][BM] and of dz gathered for its 64 input pixels [BK][BN] in shared memory; each invocation owns a 4x4
// register tile. dz is NCHW (conv_backward_dy). One writer per element of dX, fixed order: deterministic.
// Grid: x = pixel tiles over N·H·W, y = channel tiles over CG, z = group.
#include "precision.glsl"
#include "tiled_gemm.glsl"
#include "conv_params.glsl"

layout(local_size_x = TX, local_size_y = TY, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Dz { sfloat dz[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat w[]; };
layout(std430, binding = 2) buffer Dx { sfloat dx[]; };

void main()
{
    uint HW = p.H * p.W, P = p.N * HW, OHW = p.OH * p.OW, taps = p.KH * p.KW, K = p.MG * taps;
    uint g = gl_WorkGroupID.z, c0 = gl_WorkGroupID.y * BM, p0 = gl_WorkGroupID.x * BN;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * TX + tx;

    uint nn = t % BN, pix = p0 + nn;
    bool pixIn = pix < P;
    uint pn = pixIn ? pix / HW : 0u, pr = pixIn ? pix - pn * HW : 0u;
    int iyp = int(pr / p.W) + p.PT, ixp = int(pr % p.W) + p.PL;
    uint dzImage = (pn * p.M + g * p.MG) * OHW;

    tile_clear();

    for (uint k0 = 0u; k0 < K; k0 += BK)
    {
        // Weights: slot (row cc = e / BK, k = e % BK) with k = (m, tap): w[g·MG + m][c][tap].
        [[unroll]] for (uint s = 0u; s < BM * BK / THREADS; ++s)
        {
            uint e = t + THREADS * s, cc = e / BK, kk = e % BK, c = c0 + cc, k = k0 + kk;
            afloat v = afloat(0);
            if (c < p.CG && k < K)
            {
                uint m = k / taps, tap = k - m * taps;
                v = LOAD(w[((g * p.MG + m) * p.CG + c) * taps + tap]);
            }
            As[kk][cc] = v;
        }
        // dz for this invocation's pixel at each k = (m, ky, kx) of the slice, zero where no output position maps to it.
        [[unroll]] for (uint s = 0u; s < BK * BN / THREADS; ++s)
        {
            uint kk = (t + THREADS * s) / BN, k = k0 + kk;
            afloat v = afloat(0);
            if (pixIn && k < K)
            {
                uint m = k / taps, tap = k - m * taps, ky = tap / p.KW, kx = tap - ky * p.KW;
                int oyn = iyp - int(ky * p.DH), oxn = ixp - int(kx * p.DW);
                if (oyn >= 0 && oxn >= 0 && uint(oyn) % p.SH == 0u && uint(oxn) % p.SW == 0u)
                {
                    uint oy = uint(oyn) / p.SH, ox = uint(oxn) / p.SW;
                    if (oy < p.OH && ox < p.OW) v = LOAD(dz[dzImage + m * OHW + oy * p.OW + ox]);
                }
            }
            Bs[kk][nn] = v;
        }
        barrier();
        tile_multiply();
        barrier();
    }

    [[unroll]] for (uint i = 0u; i < TM; ++i)
    {
        uint c = c0 + ty + TY * i;
        [[unroll]] for (uint j = 0u; j < TN; ++j)
        {
            uint q = p0 + tx + TX * j;
            if (c < p.CG && q < P)
            {
                uint n = q / HW, r = q - n * HW, o = (n * p.C + g * p.CG + c) * HW + r;
                dx[o] = STORE(LOAD(dx[o]) + acc[i][j]);
            }
        }
    }
}
