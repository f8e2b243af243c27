#version 450
// C = A op B with NumPy broadcasting (broadcast.glsl), then * scale (Mean's 1/N) and the fused
// activation. OP: Binary.Kind in Ops/Binary.cs. VEC4: the innermost collapsed axis is walked in
// vec4s; an input contiguous along it is read as a vec4, a broadcast one (stride 0) is splatted.
// With a single axis the last invocation finishes the elements past the last whole vec4.
#include "precision.glsl"
#include "binary_ops.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "pow_onnx.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint OP = 0;
layout(constant_id = 5) const int RANK = 1;
layout(constant_id = 6) const bool VEC4 = false;
#include "broadcast.glsl"

// Scalar and vec4 views of the same buffers (aliasing bindings is valid Vulkan). A variadic op
// chains dispatches that read the output as A and write it in place, element by element.
layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 0) readonly buffer A4 { sfloat4 a4[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 1) readonly buffer B4 { sfloat4 b4[]; };
layout(std430, binding = 2) writeonly buffer C { sfloat c[]; };
layout(std430, binding = 2) writeonly buffer C4 { sfloat4 c4[]; };
layout(push_constant) uniform Params { uvec4 axes[BROADCAST_MAX_RANK]; uint count; uint elements; float alpha; float beta; float scale; } p;

afloat4 combine(afloat4 x, afloat4 y)
{
    switch (OP)
    {
    case BINARY_ADD: return x + y;
    case BINARY_SUB: return x - y;
    case BINARY_MUL: return x * y;
    case BINARY_DIV: return x / y;
    case BINARY_MAX: return max(x, y);
    case BINARY_MIN: return min(x, y);
    case BINARY_POW: return afloat4(pow_onnx(x.x, y.x), pow_onnx(x.y, y.y), pow_onnx(x.z, y.z), pow_onnx(x.w, y.w));
    case BINARY_P_RELU: return mix(x, x * y, lessThan(x, afloat4(0)));
    case BINARY_DIV_TRUNCATE: return trunc(x / y);
    default: return x;
    }
}

afloat4 finish(afloat4 v)
{
    v *= p.scale;
    return afloat4(activate(v.x, p.alpha, p.beta), activate(v.y, p.alpha, p.beta),
                   activate(v.z, p.alpha, p.beta), activate(v.w, p.alpha, p.beta));
}

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    if (VEC4 && RANK == 1 && p.elements - i * 4u < 4u)
    {
        for (uint j = i * 4u; j < p.elements; ++j)
        {
            afloat x = LOAD(a[p.axes[0].y != 0u ? j : 0u]);
            afloat y = LOAD(b[p.axes[0].z != 0u ? j : 0u]);
            c[j] = STORE(finish(combine(afloat4(x), afloat4(y))).x);
        }
        return;
    }
    uvec3 o = broadcast_offsets(i, p.axes);
    if (VEC4)
    {
        afloat4 x = p.axes[RANK - 1].y != 0u ? afloat4(a4[o.x >> 2]) : afloat4(LOAD(a[o.x]));
        afloat4 y = p.axes[RANK - 1].z != 0u ? afloat4(b4[o.y >> 2]) : afloat4(LOAD(b[o.y]));
        c4[i] = sfloat4(finish(combine(x, y)));
    }
    else
    {
        c[i] = STORE(finish(combine(afloat4(LOAD(a[o.x])), afloat4(LOAD(b[o.y])))).x);
    }
}
