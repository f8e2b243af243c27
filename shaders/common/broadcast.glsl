// NumPy broadcasting for pointwise kernels. The runtime collapses the output shape (drops 1-dims,
// merges axes every input reads contiguously) to RANK <= 6 axes and passes, per axis, a uvec4
// (output dim, stride of input 0, 1, 2) with stride 0 on broadcast axes (Ops/Elementwise.cs).
// The including shader declares `const int RANK` (a specialization constant) first.
#ifndef VKCNN_BROADCAST_GLSL
#define VKCNN_BROADCAST_GLSL
#define BROADCAST_MAX_RANK 6

// Element offsets of up to three inputs for output element `index` (row-major, axis 0 outermost).
uvec3 broadcast_offsets(uint index, uvec4 axes[BROADCAST_MAX_RANK])
{
    uvec3 offset = uvec3(0u);
    for (int d = RANK - 1; d > 0; --d)
    {
        uint n = axes[d].x;
        uint q = index / n;
        offset += (index - q * n) * axes[d].yzw;
        index = q;
    }
    return offset + index * axes[0].yzw;
}
#endif
