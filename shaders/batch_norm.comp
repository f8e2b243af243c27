#version 450
// Inference BatchNormalization folded on the CPU to y = act(x * scale[c] + shift[c]):
// one FMA per element, fused activation from spec constant 3. PLANAR: x indexes within a
// channel plane and the workgroup's y is the plane, so the channel is uniform and needs no
// per-element division; otherwise a 1-D index (planes smaller than a workgroup, or too many).
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool PLANAR = true;
#include "activation.glsl"

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) readonly buffer Shift { float shift[]; };
layout(std430, binding = 3) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params { uint count; uint C; uint inner; float alpha; float beta; } p;

void main()
{
    if (PLANAR)
    {
        uint j = gl_GlobalInvocationID.x;
        if (j >= p.inner) return;
        uint plane = gl_WorkGroupID.y;
        uint c = plane % p.C;
        uint i = plane * p.inner + j;
        y[i] = STORE(activate(fma(LOAD(x[i]), afloat(scale[c]), afloat(shift[c])), p.alpha, p.beta));
        return;
    }
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint c = (i / p.inner) % p.C;
    y[i] = STORE(activate(fma(LOAD(x[i]), afloat(scale[c]), afloat(shift[c])), p.alpha, p.beta));
}
