#version 450
// Backward of the pointwise unary ops: dX += dY * f'(x). Same OP (spec constant 4) and
// ACTIVATION (spec constant 3) codes as unary.comp. f' reads the saved input x, or the saved
// output y where that is cheaper and what PyTorch does (Sigmoid, Tanh, Sqrt, Exp). Abs'(0) = 0.
// Each invocation handles 4 elements: vec4 loads where all 4 are in range, a scalar tail otherwise.
#include "precision.glsl"
#include "unary_ops.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "activation_backward.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint OP = 0;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 0) readonly buffer X4 { sfloat4 x4[]; };
layout(std430, binding = 1) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 1) readonly buffer Y4 { sfloat4 y4[]; };
layout(std430, binding = 2) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 2) readonly buffer DY4 { sfloat4 dy4[]; };
layout(std430, binding = 3) buffer DX { sfloat dx[]; };
layout(std430, binding = 3) buffer DX4 { sfloat4 dx4[]; };
layout(push_constant) uniform Params { uint count; float alpha; float beta; } p;

// dL/dx for one element.
afloat gradient(afloat g, afloat v, afloat out_v)
{
    switch (OP)
    {
    case UNARY_SQRT: return g / (afloat(2) * out_v);
    case UNARY_EXP: return g * out_v;
    case UNARY_ERF: return g * (1.12837916709551 * exp(-v * v));
    case UNARY_NEG: return -g;
    case UNARY_ABS: return g * sign(v);
    case UNARY_COPY: return g;
    default: return g * activation_derivative(v, out_v, p.alpha, p.beta);
    }
}

void main()
{
    uint i = linear_invocation_index();
    uint first = i * 4u;
    if (first >= p.count) return;
    if (p.count - first >= 4u)
    {
        afloat4 g = afloat4(dy4[i]), v = afloat4(x4[i]), o = afloat4(y4[i]);
        afloat4 d = afloat4(gradient(g.x, v.x, o.x), gradient(g.y, v.y, o.y), gradient(g.z, v.z, o.z), gradient(g.w, v.w, o.w));
        dx4[i] = sfloat4(afloat4(dx4[i]) + d);
    }
    else
    {
        for (uint j = first; j < p.count; ++j)
            dx[j] = STORE(LOAD(dx[j]) + gradient(LOAD(dy[j]), LOAD(x[j]), LOAD(y[j])));
    }
}
