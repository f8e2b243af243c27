#version 450
// Gradient of a broadcast operand: out += scale · (source summed over the axes the operand was
// broadcast along). Gemm's C (beta), MatMul's A or B with broadcast batch axes. The host drops
// size-1 axes and merges neighbours, leaving rank <= 6 source dims with a bit per reduced axis.
// One invocation per target element, summing in row-major order: deterministic.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Src { sfloat src[]; };
layout(std430, binding = 1) buffer Out { sfloat o[]; };
layout(push_constant) uniform Params
{
    uint count;      // target elements
    uint rank;
    uint reduced;    // bit d set: axis d is summed
    uint inner;      // product of the reduced dims
    uint dims[6];
    float scale;
} p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    // Source offset of target element i (kept axes), and the source strides of the reduced axes.
    uint base = 0u, stride = 1u, rest = i;
    uint rstride[6], rdim[6], nr = 0u;
    for (int d = int(p.rank) - 1; d >= 0; --d)
    {
        uint n = p.dims[d];
        if ((p.reduced & (1u << uint(d))) != 0u)
        {
            rstride[nr] = stride;
            rdim[nr] = n;
            ++nr;
        }
        else
        {
            uint q = rest / n;
            base += (rest - q * n) * stride;
            rest = q;
        }
        stride *= n;
    }
    afloat s = afloat(0);
    for (uint r = 0u; r < p.inner; ++r)
    {
        // Reduced axes in row-major order: the last reduced axis varies fastest.
        uint off = base, t = r;
        for (uint k = 0u; k < nr; ++k)
        {
            uint q = t / rdim[k];
            off += (t - q * rdim[k]) * rstride[k];
            t = q;
        }
        s += LOAD(src[off]);
    }
    o[i] = STORE(LOAD(o[i]) + p.scale * s);
}
