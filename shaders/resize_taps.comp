#version 450
// Resize over the last two axes (H, W) as a separable sum of weighted taps: cubic (4 taps per
// axis), and nearest / linear under tf_crop_and_resize (1 / 2 taps). The host tabulates, per
// output row and per output column, TAPS source indices, their weights and an inside flag; an
// output whose row or column lies outside the input is extrapolation_value.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint TAPS = 4;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
// [out_h + out_w] entries of (TAPS indices, TAPS weights, inside flag); indices stored exactly as floats.
layout(std430, binding = 1) readonly buffer Table { float table[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; uint in_h; uint in_w; uint out_h; uint out_w; float extrapolation; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint ow = i % p.out_w;
    uint t = i / p.out_w;
    uint oh = t % p.out_h;
    uint plane = (t / p.out_h) * p.in_h * p.in_w;
    const uint stride = 2u * TAPS + 1u;
    uint hy = oh * stride, wx = (p.out_h + ow) * stride;
    if (table[hy + 2u * TAPS] == 0.0 || table[wx + 2u * TAPS] == 0.0)
    {
        y[i] = STORE(afloat(p.extrapolation));
        return;
    }
    afloat acc = afloat(0);
    for (uint a = 0u; a < TAPS; ++a)
    {
        uint row = plane + uint(table[hy + a]) * p.in_w;
        afloat along = afloat(0);
        for (uint b = 0u; b < TAPS; ++b) along += afloat(table[wx + TAPS + b]) * LOAD(x[row + uint(table[wx + b])]);
        acc += afloat(table[hy + TAPS + a]) * along;
    }
    y[i] = STORE(acc);
}
