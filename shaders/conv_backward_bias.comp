#version 450
// Conv / ConvTranspose bias gradient: dB[m] += sum over n, y, x of dL/dz[n, m, y, x]. Each lane
// sums a fixed strided subset of the pixels, then a fixed reduction tree (deterministic).
// TRANSPOSED (conv_backward_dy's [group][MG4][N·OH·OW] vec4 layout, A = MG4): one workgroup per
// vec4 of 4 channels, contiguous vec4 loads. Else NCHW: one workgroup per channel.
#include "precision.glsl"
#include "conv_params.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool TRANSPOSED = true;

#include "workgroup_reduce.glsl"

layout(std430, binding = 0) readonly buffer Dz { sfloat dz[]; };
layout(std430, binding = 0) readonly buffer Dz4 { sfloat4 dz4[]; };
layout(std430, binding = 1) buffer Db { sfloat db[]; };

void main()
{
    uint row = workgroup_row_index(), lid = gl_LocalInvocationID.x, hw = p.OH * p.OW;
    if (TRANSPOSED)
    {
        uint groups = p.M / p.MG, P = p.N * hw;
        if (row >= groups * p.A) return;  // uniform per workgroup
        afloat4 s = afloat4(0);
        for (uint px = lid; px < P; px += gl_WorkGroupSize.x) s += afloat4(dz4[row * P + px]);
        uint g = row / p.A, m0 = (row - g * p.A) * 4u;
        for (uint e = 0u; e < 4u; ++e)
        {
            afloat total = workgroup_sum(s[e]);
            if (lid == 0u && m0 + e < p.MG)
            {
                uint m = g * p.MG + m0 + e;
                db[m] = STORE(LOAD(db[m]) + total);
            }
        }
        return;
    }
    if (row >= p.M) return;
    afloat s = afloat(0);
    for (uint n = 0u; n < p.N; ++n)
        for (uint i = lid; i < hw; i += gl_WorkGroupSize.x) s += LOAD(dz[(n * p.M + row) * hw + i]);
    s = workgroup_sum(s);
    if (lid == 0u) db[row] = STORE(LOAD(db[row]) + s);
}
