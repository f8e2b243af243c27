#version 450
// Pad (constant / reflect / edge / wrap) with cropping: each output coordinate o reads source
// coordinate o - pad_begin of the cropped input (src_len values per axis starting at `base`);
// outside it, MODE picks the constant, a mirror, the edge or a wrap.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
// 0 constant, 1 reflect, 2 edge, 3 wrap.
layout(constant_id = 4) const int MODE = 0;

layout(std430, binding = 0) readonly buffer X { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Y { sfloat y[]; };
layout(push_constant) uniform Params
{
    uint count;
    int base;
    uint rank;
    float value;
    uint dims[6];
    int pad_begin[6];
    int src_len[6];
    int strides[6];
} p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint rest = i;
    int src = p.base;
    bool inside = true;
    for (int d = int(p.rank) - 1; d >= 0; --d)
    {
        uint q = rest / p.dims[d];
        int c = int(rest - q * p.dims[d]) - p.pad_begin[d];
        rest = q;
        int n = p.src_len[d];
        if (c < 0 || c >= n)
        {
            if (MODE == 0) inside = false;
            else if (MODE == 2) c = clamp(c, 0, n - 1);
            else if (MODE == 3) c = c < 0 ? n - 1 - (-c - 1) % n : c % n;
            else if (n == 1) c = 0;
            else
            {
                // Mirror without repeating the edge: even about 0, period 2(n - 1).
                int period = 2 * (n - 1);
                c = abs(c) % period;
                if (c >= n) c = period - c;
            }
        }
        src += c * p.strides[d];
    }
    // A branch, not a select: outside the source, src may point past the buffer.
    if (inside) y[i] = x[src];
    else y[i] = STORE(p.value);
}
