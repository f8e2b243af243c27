#version 450
// DepthToSpace (DCR, CRD) and SpaceToDepth on NCHW: each output element reads the one input
// element it moves from.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
// 0 DepthToSpace DCR, 1 DepthToSpace CRD, 2 SpaceToDepth.
layout(constant_id = 4) const int MODE = 0;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; uint out_c; uint out_h; uint out_w; uint in_c; uint in_h; uint in_w; uint bs; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint ow = i % p.out_w;
    uint t = i / p.out_w;
    uint oh = t % p.out_h;
    t /= p.out_h;
    uint oc = t % p.out_c;
    uint n = t / p.out_c;
    uint ic, ih, iw;
    if (MODE == 2)
    {
        // Output channel (by * bs + bx) * C + c holds pixel (oh * bs + by, ow * bs + bx) of channel c.
        uint b = oc / p.in_c;
        ic = oc - b * p.in_c;
        ih = oh * p.bs + b / p.bs;
        iw = ow * p.bs + b % p.bs;
    }
    else
    {
        uint by = oh % p.bs, bx = ow % p.bs;
        ih = oh / p.bs;
        iw = ow / p.bs;
        ic = MODE == 0 ? (by * p.bs + bx) * p.out_c + oc : (oc * p.bs + by) * p.bs + bx;
    }
    y[i] = x[((n * p.in_c + ic) * p.in_h + ih) * p.in_w + iw];
}
