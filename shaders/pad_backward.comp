#version 450
// Pad backward (every mode, with cropping): dX[i] += sum of dY over the output positions whose
// source is i. Per axis the host lists, for each input coordinate, the output coordinates that
// read it (CSR in the int table: offsets at table[axis], then the coordinates); an axis without
// pads or crops maps coordinate c to c (IDENTITY bit). One invocation per dX element walks the
// product of its per-axis lists in a fixed order: reflect/edge/wrap borders accumulate
// deterministically; constant mode hits at most one output.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 1) readonly buffer Table { int table[]; };
layout(std430, binding = 2) buffer DX { sfloat dx[]; };
layout(push_constant) uniform Params
{
    uint count;
    uint rank;
    uint identity;       // bit d: axis d is neither padded nor cropped
    uint unused;
    uint in_dims[6];
    uint out_strides[6];
    int offsets[6];      // per axis: where its in_dims[d] + 1 CSR offsets start in the table
} p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    int coord[6], lo[6], hi[6], k[6];
    uint rest = i;
    for (int d = int(p.rank) - 1; d >= 0; --d)
    {
        uint q = rest / p.in_dims[d];
        coord[d] = int(rest - q * p.in_dims[d]);
        rest = q;
        if ((p.identity & (1u << d)) != 0u) { lo[d] = 0; hi[d] = 1; }
        else
        {
            lo[d] = table[p.offsets[d] + coord[d]];
            hi[d] = table[p.offsets[d] + coord[d] + 1];
            if (lo[d] == hi[d]) return;   // cropped away or never read: no gradient
        }
        k[d] = lo[d];
    }
    afloat sum = afloat(0);
    for (;;)
    {
        uint o = 0u;
        for (int d = 0; d < int(p.rank); ++d)
        {
            int c = (p.identity & (1u << d)) != 0u ? coord[d] : table[k[d]];
            o += uint(c) * p.out_strides[d];
        }
        sum += LOAD(dy[o]);
        // Next position: odometer over the per-axis lists, innermost axis fastest.
        int d = int(p.rank) - 1;
        for (; d >= 0; --d)
        {
            if (++k[d] < hi[d]) break;
            k[d] = lo[d];
        }
        if (d < 0) break;
    }
    dx[i] = STORE(LOAD(dx[i]) + sum);
}
