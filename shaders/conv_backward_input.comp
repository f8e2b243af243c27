#version 450
// Conv input gradient dX += transposed convolution of dL/dz (conv_backward_dy, TRANSPOSED layout
// [group][MG4][N·OH·OW] vec4) with the weights packed by conv_pack_weights LAYOUT 1
// ([group][CG/CO][KH][KW][MG4·4 m][CO channels]). Gather form: every dX element is written by one
// invocation (deterministic). Register blocking: PX input columns x CO = 4·CO4 input channels.
// The columns of one invocation share their residue modulo the stride (ix = rx + SW·(t0 + j)) and
// the workgroup shares (ry, rx), so a tap is valid for all of them or none: no work is wasted on
// taps a strided conv never applied.
// Grid: x = (n, row iy = ry + SH·iyq, column block), y = channel block, z = (group, ry, rx).
// A = MG4, B = column blocks per residue, D = channel blocks, E = rows per residue ceil(H / SH).
#extension GL_EXT_control_flow_attributes : require
#include "precision.glsl"
#include "conv_params.glsl"

#define PX 8
#define CO4_MAX 4

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint CO4 = 4;

layout(std430, binding = 0) readonly buffer Dy { sfloat4 dy[]; };
layout(std430, binding = 1) readonly buffer Wt { sfloat4 w[]; };
layout(std430, binding = 2) buffer Dx { sfloat dx[]; };

void main()
{
    uint lane = gl_GlobalInvocationID.x;
    uint tb = lane % p.B, rest = lane / p.B, iyq = rest % p.E, n = rest / p.E;
    uint z = gl_WorkGroupID.z, rx = z % p.SW, ry = (z / p.SW) % p.SH, g = z / (p.SW * p.SH);
    uint cb = gl_WorkGroupID.y, iy = ry + iyq * p.SH;
    if (n >= p.N || iy >= p.H) return;
    uint t0 = tb * PX, P = p.N * p.OH * p.OW;
    // Column residue arithmetic on non-negative integers: shift by a whole number of strides.
    int shiftX = int(((p.KW - 1u) * p.DW) / p.SW + 1u);

    afloat4 acc[PX][CO4_MAX];
    [[unroll]] for (uint j = 0u; j < PX; ++j)
        [[unroll]] for (uint q = 0u; q < CO4_MAX; ++q) acc[j][q] = afloat4(0);

    for (uint ky = 0u; ky < p.KH; ++ky)
    {
        int ty = int(iy) + p.PT - int(ky * p.DH);
        if (ty < 0 || uint(ty) % p.SH != 0u) continue;
        uint oy = uint(ty) / p.SH;
        if (oy >= p.OH) continue;
        uint prow = (n * p.OH + oy) * p.OW;
        for (uint kx = 0u; kx < p.KW; ++kx)
        {
            uint a = uint(int(rx) + p.PL - int(kx * p.DW) + shiftX * int(p.SW));
            if (a % p.SW != 0u) continue;
            int ox0 = int(a / p.SW) - shiftX + int(t0);
            uint pix[PX];
            bool valid[PX];
            [[unroll]] for (uint j = 0u; j < PX; ++j)
            {
                int ox = ox0 + int(j);
                valid[j] = ox >= 0 && ox < int(p.OW);
                pix[j] = prow + uint(clamp(ox, 0, int(p.OW) - 1));
            }
            uint wi = (((g * p.D + cb) * p.KH + ky) * p.KW + kx) * p.A * 4u * CO4;
            for (uint m4 = 0u; m4 < p.A; ++m4)
            {
                uint plane = (g * p.A + m4) * P;
                afloat4 d[PX];
                [[unroll]] for (uint j = 0u; j < PX; ++j)
                {
                    afloat4 v = afloat4(dy[plane + pix[j]]);
                    d[j] = valid[j] ? v : afloat4(0);
                }
                [[unroll]] for (uint e = 0u; e < 4u; ++e)
                    [[unroll]] for (uint q = 0u; q < CO4_MAX; ++q)
                        if (q < CO4)
                        {
                            afloat4 wv = afloat4(w[wi + e * CO4 + q]);
                            [[unroll]] for (uint j = 0u; j < PX; ++j) acc[j][q] = fma(afloat4(d[j][e]), wv, acc[j][q]);
                        }
                wi += 4u * CO4;
            }
        }
    }

    [[unroll]] for (uint j = 0u; j < PX; ++j)
    {
        uint ix = rx + p.SW * (t0 + j);
        if (ix < p.W)
        {
            [[unroll]] for (uint q = 0u; q < CO4_MAX; ++q)
                [[unroll]] for (uint l = 0u; l < 4u; ++l)
                {
                    uint c = (cb * CO4 + q) * 4u + l;
                    if (q < CO4 && c < p.CG)
                    {
                        uint o = ((n * p.C + g * p.CG + c) * p.H + iy) * p.W + ix;
                        dx[o] = STORE(LOAD(dx[o]) + acc[j][q][l]);
                    }
                }
        }
    }
}
