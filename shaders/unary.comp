#version 450
// Pointwise unary ops: y = f(x). Activations go through activation.glsl (spec constant 3) so they
// match the fused versions bit for bit; OP (spec constant 4) selects a math op instead
// (UnaryMathOp in Ops/Unary.cs). Each invocation handles 4 elements: one vec4 load where all 4
// are in range, a scalar tail otherwise.
#include "precision.glsl"
#include "unary_ops.glsl"
#include "indexing.glsl"
#include "activation.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint OP = 0;

// Scalar and vec4 views of the same buffers (aliasing bindings is valid Vulkan).
layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { sfloat4 y4[]; };
// Activations: alpha/beta as in activation.glsl. Cast to an integer type: [alpha, beta] is the
// target type's range.
layout(push_constant) uniform Params { uint count; float alpha; float beta; } p;

// Round to half precision as numpy's astype(float16): nearest-even, overflow to +-infinity, done
// on the bits because drivers may fold unpackHalf2x16(packHalf2x16(x)) to x (NVIDIA does), and
// packHalf2x16 leaves out-of-range values undefined.
float round_to_half(float v)
{
    uint u = floatBitsToUint(v), a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return v;                                   // NaN
    if (a >= 0x477FF000u) return uintBitsToFloat((u & 0x80000000u) | 0x7F800000u);  // >= 65520: infinity
    if (a < 0x38800000u)                                              // below 2^-14: a multiple of 2^-24
        return uintBitsToFloat((u & 0x80000000u) | floatBitsToUint(roundEven(abs(v) * 16777216.0) * 5.9604644775390625e-8));
    a = (a + 0xFFFu + ((a >> 13) & 1u)) & ~0x1FFFu;                  // keep 10 mantissa bits, ties to even
    return uintBitsToFloat((u & 0x80000000u) | a);
}

afloat apply(afloat v)
{
    switch (OP)
    {
    case UNARY_SQRT: return sqrt(v);
    case UNARY_EXP: return exp(v);
    case UNARY_ERF: return vk_erf(v);
    case UNARY_NEG: return -v;
    case UNARY_ABS: return abs(v);
    case UNARY_CAST_TO_INTEGER: return isnan(v) ? afloat(0) : clamp(trunc(v), p.alpha, p.beta);
    case UNARY_CAST_TO_BOOL: return v != afloat(0) ? afloat(1) : afloat(0);
    case UNARY_COPY: return v;
    case UNARY_CAST_TO_HALF: return round_to_half(float(v));
    default: return activate(v, p.alpha, p.beta);
    }
}

void main()
{
    uint i = linear_invocation_index();
    uint first = i * 4u;
    if (first >= p.count) return;
    if (p.count - first >= 4u)
    {
        afloat4 v = afloat4(x4[i]);
        y4[i] = sfloat4(afloat4(apply(v.x), apply(v.y), apply(v.z), apply(v.w)));
    }
    else
    {
        for (uint j = first; j < p.count; ++j) y[j] = STORE(apply(LOAD(x[j])));
    }
}
