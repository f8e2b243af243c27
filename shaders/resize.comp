#version 450
// Resize / Upsample over the last two axes (H, W). The host precomputes, per output row and
// per output column, the two source indices and the weight of the second (coordinate
// transformation and nearest rounding happen once there, in double precision). Nearest mode
// reads only the first index.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool LINEAR = false;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
// [out_h + out_w] entries of (index0, index1, weight of index1); indices stored exactly as floats.
layout(std430, binding = 1) readonly buffer Table { float table[]; };
layout(std430, binding = 2) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; uint in_h; uint in_w; uint out_h; uint out_w; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint ow = i % p.out_w;
    uint t = i / p.out_w;
    uint oh = t % p.out_h;
    uint plane = (t / p.out_h) * p.in_h * p.in_w;
    uint hy = oh * 3u, wx = (p.out_h + ow) * 3u;
    uint y0 = uint(table[hy]) * p.in_w, x0 = uint(table[wx]);
    if (!LINEAR)
    {
        y[i] = x[plane + y0 + x0];
        return;
    }
    uint y1 = uint(table[hy + 1u]) * p.in_w, x1 = uint(table[wx + 1u]);
    afloat fy = afloat(table[hy + 2u]), fx = afloat(table[wx + 2u]);
    afloat top = mix(LOAD(x[plane + y0 + x0]), LOAD(x[plane + y0 + x1]), fx);
    afloat bottom = mix(LOAD(x[plane + y1 + x0]), LOAD(x[plane + y1 + x1]), fx);
    y[i] = STORE(mix(top, bottom, fy));
}
