// Strided gather shared by the data-movement kernels (transpose, slice): output element i reads
// input element base + sum_d coord_d(i) * strides[d], where coord_d(i) are i's coordinates in the
// output dims (innermost last). Strides may be negative (Slice with negative steps). The host
// merges contiguous axes and drops size-1 axes, so 6 axes cover any realistic layout.
#ifndef VKCNN_STRIDED_GATHER_GLSL
#define VKCNN_STRIDED_GATHER_GLSL
layout(push_constant) uniform Params
{
    uint count;
    int base;
    uint rank;
    uint dims[6];
    int strides[6];
} p;

int strided_source(uint i)
{
    int src = p.base;
    for (int d = int(p.rank) - 1; d >= 0; --d)
    {
        uint q = i / p.dims[d];
        src += int(i - q * p.dims[d]) * p.strides[d];
        i = q;
    }
    return src;
}
#endif
