#version 450
// MaxPool / AveragePool over NCHW with a 2-D window. One output per invocation on a 3-D grid
// (x = column, y = row, z = plane): no per-element index division. The window geometry is
// specialised so the tap loops unroll. Windows are pre-validated on the CPU (Ops/Pool.cs) to
// touch at least one input element. MaxPool's optional Indices output: the flat NCHW index of
// the first maximum in window order (row-major h·W + w, or column-major w·H + h), as float.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 4) const uint MODE = 0;                    // 0 = max, 1 = average
layout(constant_id = 5) const bool COUNT_INCLUDE_PAD = false;   // average: divide by taps inside the padded input
layout(constant_id = 6) const int KH = 1;
layout(constant_id = 7) const int KW = 1;
layout(constant_id = 8) const int SH = 1;
layout(constant_id = 9) const int SW = 1;
layout(constant_id = 10) const int DH = 1;
layout(constant_id = 11) const int DW = 1;
layout(constant_id = 12) const uint INDICES = 0;                // max: 0 = none, 1 = row-major, 2 = column-major

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(std430, binding = 2) writeonly buffer Indices { float indices[]; };
layout(push_constant) uniform Params
{
    uint planes; int H; int W; uint OH; uint OW;
    int padTop; int padLeft; int padBottom; int padRight;
} p;

void main()
{
    uint ow = gl_GlobalInvocationID.x, oh = gl_GlobalInvocationID.y;
    if (ow >= p.OW || oh >= p.OH) return;
    int h0 = int(oh) * SH - p.padTop;
    int w0 = int(ow) * SW - p.padLeft;
    // Planes beyond the grid's z limit are covered by striding.
    for (uint plane = gl_WorkGroupID.z; plane < p.planes; plane += gl_NumWorkGroups.z)
    {
        uint base = plane * uint(p.H * p.W);
        afloat acc = MODE == 0u ? afloat(uintBitsToFloat(0xFF800000u)) : afloat(0);
        int inside = 0;
        int best = -1;   // INDICES: in-plane index of the maximum so far
        for (int kh = 0; kh < KH; ++kh)
        {
            int h = h0 + kh * DH;
            bool rowIn = h >= 0 && h < p.H;
            for (int kw = 0; kw < KW; ++kw)
            {
                int w = w0 + kw * DW;
                if (rowIn && w >= 0 && w < p.W)
                {
                    afloat v = LOAD(x[base + uint(h * p.W + w)]);
                    if (MODE == 0u && INDICES != 0u)
                    {
                        // Strictly greater: ties keep the first in window order (ONNX Runtime's rule).
                        if (best < 0 || v > acc) { acc = v; best = INDICES == 1u ? h * p.W + w : w * p.H + h; }
                    }
                    else acc = MODE == 0u ? max(acc, v) : acc + v;
                    ++inside;
                }
            }
        }
        if (MODE == 1u)
        {
            int divisor = inside;
            if (COUNT_INCLUDE_PAD)
            {
                // Taps inside [-pad, size + pad): a ceil_mode window's overhang past the padded
                // input is not counted (PyTorch's rule).
                int th = 0, tw = 0;
                for (int kh = 0; kh < KH; ++kh) th += h0 + kh * DH < p.H + p.padBottom ? 1 : 0;
                for (int kw = 0; kw < KW; ++kw) tw += w0 + kw * DW < p.W + p.padRight ? 1 : 0;
                divisor = th * tw;
            }
            acc /= afloat(divisor);
        }
        y[plane * p.OH * p.OW + oh * p.OW + ow] = STORE(acc);
        if (MODE == 0u && INDICES != 0u) indices[plane * p.OH * p.OW + oh * p.OW + ow] = float(base + uint(best));
    }
}
