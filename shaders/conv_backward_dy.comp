#version 450
// First step of the Conv / ConvTranspose backward pass: dL/dz = dY · act'(y) for the fused
// activation (from the saved output y; none: a copy), written either
//   TRANSPOSED: [group][MG4][N·OH·OW] vec4, four output channels of one pixel per vec4, zero past
//     MG (conv_backward_input / _weight read whole vec4s of channels), or
//   as NCHW (E = element count).
// A = MG4 = ceil(MG / 4).
#include "precision.glsl"
#include "indexing.glsl"
#include "activation_backward_from_output.glsl"
#include "conv_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool TRANSPOSED = true;

layout(std430, binding = 0) readonly buffer Dy { sfloat dy[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) writeonly buffer Out { sfloat o[]; };
layout(std430, binding = 2) writeonly buffer Out4 { sfloat4 o4[]; };

afloat grad(uint i)
{
    afloat d = LOAD(dy[i]);
    return ACTIVATION == ACT_NONE ? d : d * activation_derivative_from_output(LOAD(y[i]), p.alpha, p.beta);
}

void main()
{
    if (!TRANSPOSED)
    {
        uint i = linear_invocation_index();
        if (i < p.E) o[i] = STORE(grad(i));
        return;
    }
    // Grid: x = pixel of the image plane, y = image, z = (group, vec4 of channels): no per-lane division.
    uint hw = p.OH * p.OW, r = gl_GlobalInvocationID.x, n = gl_WorkGroupID.y, gm = gl_WorkGroupID.z;
    if (r >= hw) return;
    uint g = gm / p.A, m0 = (gm - g * p.A) * 4u;
    afloat4 v;
    for (uint e = 0u; e < 4u; ++e)
    {
        uint mg = m0 + e;
        afloat d = grad((n * p.M + g * p.MG + min(mg, p.MG - 1u)) * hw + r);
        v[e] = mg < p.MG ? d : afloat(0);
    }
    o4[(gm * p.N + n) * hw + r] = sfloat4(v);
}
