#version 450
// Backward of the broadcasting binary ops (Binary.Kind in Ops/Binary.cs) for ONE input X:
// dX[j] += sum over the output positions o that read X[j] of dY[o] * dC/dX(o). One invocation
// per X element (per chunk of its reduction, PARTIAL) walks the broadcast ("reduced") axes in
// a fixed row-major order: no atomics, bitwise reproducible. The output axes are split on the
// host into KEPT axes (X is read along them; X's own index is the kept coordinate) and REDUCED
// ones (X has size 1), each collapsed, with per axis the output stride and the stride of the
// OTHER operand O (0 where O is broadcast).
//   O: the other input of a two-input op (SIDE 0: X is A, O is B; SIDE 1: the reverse), or for
//   Max/Min the count of inputs equal to the output at o (binary_backward_ties.comp), so ties
//   share the gradient evenly, as torch.maximum/minimum do.
// Conventions at kinks (PyTorch): PRelu'(0) = slope; Pow's exponent gradient is y * log(a):
// 0 where a == 0 and b >= 0, NaN where a < 0. A fused activation on Add/Sub/Mul multiplies dY
// by its derivative at the recomputed pre-activation value first.
#include "precision.glsl"
#include "binary_ops.glsl"
#include "indexing.glsl"
#include "activation.glsl"
#include "activation_backward.glsl"
#include "pow_onnx.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint OP = 0;
layout(constant_id = 5) const uint SIDE = 0;
layout(constant_id = 6) const int KEPT = 1;
layout(constant_id = 7) const int REDUCED = 0;
// Write one partial sum per (X element, chunk) to binding 4 instead of accumulating into dX.
layout(constant_id = 8) const bool PARTIAL = false;

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 1) readonly buffer X { sfloat x[]; };
layout(std430, binding = 2) readonly buffer O { sfloat other[]; };
layout(std430, binding = 3) readonly buffer Y { sfloat y[]; };
layout(std430, binding = 4) buffer DX { sfloat dx[]; };
layout(push_constant) uniform Params
{
    uint count;      // invocations: X elements * chunks
    uint chunks;     // partial sums per X element
    uint chunk_len;  // reduced positions per chunk
    uint reduce;     // reduced positions in all
    float alpha, beta, scale;
    uint kept_dim[4], kept_out[4], kept_other[4];
    uint red_dim[4], red_out[4], red_other[4];
} p;

afloat combine(afloat a, afloat b)
{
    switch (OP)
    {
    case BINARY_ADD: return a + b;
    case BINARY_SUB: return a - b;
    default: return a * b;
    }
}

// dY's contribution to dX at one output position: v is X's value, o O's, out the output's.
afloat gradient(afloat g, afloat v, afloat o, afloat out_v)
{
    if (ACTIVATION != ACT_NONE)
    {
        afloat z = combine(SIDE == 0u ? v : o, SIDE == 0u ? o : v) * p.scale;
        g *= activation_derivative(z, activate(z, p.alpha, p.beta), p.alpha, p.beta);
    }
    switch (OP)
    {
    case BINARY_ADD: return g * p.scale;
    case BINARY_SUB: return SIDE == 0u ? g : -g;
    case BINARY_MUL: return g * o;
    case BINARY_DIV: return SIDE == 0u ? g / o : -g * o / (v * v);
    case BINARY_MAX:
    case BINARY_MIN: return v == out_v ? g / o : afloat(0);
    case BINARY_POW:
        if (SIDE == 0u) return o == afloat(0) ? afloat(0) : g * o * pow_onnx(v, o - afloat(1));
        if (o == afloat(0) && v >= afloat(0)) return afloat(0);
        return g * out_v * (o < afloat(0) ? uintBitsToFloat(0x7fc00000u) : log(o));
    case BINARY_P_RELU:
        if (SIDE == 0u) return v > afloat(0) ? g : g * o;
        return o > afloat(0) ? afloat(0) : g * o;
    default: return g;
    }
}

void main()
{
    uint t = linear_invocation_index();
    if (t >= p.count) return;
    uint j = t / p.chunks;
    uint part = t - j * p.chunks;
    uint out_base = 0u, other_base = 0u, rest = j;
    for (int d = KEPT - 1; d >= 0; --d)
    {
        uint q = rest / p.kept_dim[d];
        uint c = rest - q * p.kept_dim[d];
        out_base += c * p.kept_out[d];
        other_base += c * p.kept_other[d];
        rest = q;
    }
    afloat v = LOAD(x[j]);
    uint first = part * p.chunk_len, last = min(p.reduce, first + p.chunk_len);
    afloat sum = afloat(0);
    for (uint r = first; r < last; ++r)
    {
        uint o = out_base, ot = other_base;
        rest = r;
        for (int d = REDUCED - 1; d >= 0; --d)
        {
            uint q = rest / p.red_dim[d];
            uint c = rest - q * p.red_dim[d];
            o += c * p.red_out[d];
            ot += c * p.red_other[d];
            rest = q;
        }
        sum += gradient(LOAD(dy[o]), v, LOAD(other[ot]), LOAD(y[o]));
    }
    if (PARTIAL) dx[t] = STORE(sum);
    else dx[j] = STORE(LOAD(dx[j]) + sum);
}
