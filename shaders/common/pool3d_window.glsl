// One 3-D pooling window (MaxPool / AveragePool over NCDHW, Ops/Pool3d.cs), shared by the forward and the backward: the
// push constants, and per output position the max with the input index it came from (the first maximum in window order)
// or the average's divisor (taps inside the input, or inside the padded extent with count_include_pad).
#ifndef VKCNN_POOL3D_WINDOW_GLSL
#define VKCNN_POOL3D_WINDOW_GLSL
layout(push_constant) uniform Pool3dParams
{
    uint planes, D, H, W, OD, OH, OW;
    uint KD, KH, KW, SD, SH, SW, DD, DH, DW;
    int PD, PH, PW, ED, EH, EW;   // leading and trailing pads
    uint isMax, includePad;
} p;

struct Window { afloat value; uint arg; afloat divisor; };

// The window of output (plane, oz, oy, ox); x is read through POOL3D_LOAD(index).
Window pool3d_window(uint plane, uint oz, uint oy, uint ox)
{
    Window r = Window(p.isMax != 0u ? afloat(-3.402823466e38) : afloat(0), 0xFFFFFFFFu, afloat(0));
    uint inside = 0u, padded = 0u;
    for (uint kz = 0u; kz < p.KD; ++kz)
        for (uint ky = 0u; ky < p.KH; ++ky)
            for (uint kx = 0u; kx < p.KW; ++kx)
            {
                int tz = int(oz * p.SD + kz * p.DD) - p.PD, ty = int(oy * p.SH + ky * p.DH) - p.PH;
                int tx = int(ox * p.SW + kx * p.DW) - p.PW;
                if (tz < int(p.D) + p.ED && ty < int(p.H) + p.EH && tx < int(p.W) + p.EW) padded++;
                if (tz < 0 || ty < 0 || tx < 0 || tz >= int(p.D) || ty >= int(p.H) || tx >= int(p.W)) continue;
                uint i = ((plane * p.D + uint(tz)) * p.H + uint(ty)) * p.W + uint(tx);
                afloat v = POOL3D_LOAD(i);
                inside++;
                if (p.isMax == 0u) r.value += v;
                else if (r.arg == 0xFFFFFFFFu || v > r.value) { r.value = v; r.arg = i; }
            }
    r.divisor = afloat(p.includePad != 0u ? padded : inside);
    return r;
}
#endif
