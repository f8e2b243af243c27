// Winograd F(TILE_M x TILE_M, 3x3) transforms (Lavin & Gray 2016), written out so no multiply by
// a zero matrix entry reaches the driver. TILE_M is a specialization constant (2 or 4): the
// tile is T = TILE_M + 2 input pixels wide and the transformed domain T x T positions.
// Weights are transformed on the CPU (Ops/ConvWinograd.cs: U = G g Gᵀ, in double).
#ifndef VKCNN_WINOGRAD_GLSL
#define VKCNN_WINOGRAD_GLSL

layout(constant_id = 4) const uint TILE_M = 2;
#define WT 6   // array extent: the largest tile (F(4,3)); F(2,3) uses the first 4

// Input transform along one axis: r = Bᵀ d.
void input_1d(inout afloat4 d[WT])
{
    afloat4 r[WT];
    if (TILE_M == 2u)
    {
        r[0] = d[0] - d[2];
        r[1] = d[1] + d[2];
        r[2] = d[2] - d[1];
        r[3] = d[1] - d[3];
        r[4] = afloat4(0);
        r[5] = afloat4(0);
    }
    else
    {
        r[0] = 4.0 * d[0] - 5.0 * d[2] + d[4];
        r[1] = d[3] + d[4] - 4.0 * (d[1] + d[2]);
        r[2] = 4.0 * (d[1] - d[2]) + d[4] - d[3];
        r[3] = 2.0 * (d[3] - d[1]) + d[4] - d[2];
        r[4] = 2.0 * (d[1] - d[3]) + d[4] - d[2];
        r[5] = 4.0 * d[1] - 5.0 * d[3] + d[5];
    }
    d = r;
}

// Output transform along one axis: o = Aᵀ m (TILE_M values of T).
void output_1d(inout afloat4 m[WT])
{
    afloat4 o[WT];
    if (TILE_M == 2u)
    {
        o[0] = m[0] + m[1] + m[2];
        o[1] = m[1] - m[2] - m[3];
        o[2] = afloat4(0);
        o[3] = afloat4(0);
    }
    else
    {
        afloat4 s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
        o[0] = m[0] + s12 + s34;
        o[1] = d12 + 2.0 * d34;
        o[2] = s12 + 4.0 * s34;
        o[3] = d12 + 8.0 * d34 + m[5];
    }
    o[4] = afloat4(0);
    o[5] = afloat4(0);
    m = o;
}
#endif
