#version 450
// 3-D MaxPool / AveragePool, one output per invocation (pads, dilations, ceil_mode resolved on the host).
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
#define POOL3D_LOAD(i) LOAD(x[i])
#include "pool3d_window.glsl"

void main()
{
    uint o = linear_invocation_index();
    uint size = p.OD * p.OH * p.OW;
    if (o >= p.planes * size) return;
    uint ox = o % p.OW, oy = (o / p.OW) % p.OH, oz = (o / (p.OW * p.OH)) % p.OD;
    Window r = pool3d_window(o / size, oz, oy, ox);
    y[o] = STORE(p.isMax != 0u ? r.value : r.value / r.divisor);
}
