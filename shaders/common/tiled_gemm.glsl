// The shared-memory tile of the *_tiled kernels (conv_gemm_tiled, conv_backward_input_tiled, conv_backward_weight_tiled,
// gemm_tiled): a TX x TY workgroup computes a BM x BN block, staging BK-deep slices of its two operands in As [BK][BM] and
// Bs [BK][BN] (fp32 whatever the storage); invocation (tx, ty) owns rows ty + TY·i and columns tx + TX·j (i < TM, j < TN),
// so neighbours read neighbouring columns (coalesced) and the same row (a broadcast). 8 KiB of shared memory.
// The including kernel declares `layout(local_size_x = TX, local_size_y = TY) in;`, fills As and Bs between barriers,
// and calls tile_multiply() per slice.
#ifndef VKCNN_TILED_GEMM_GLSL
#define VKCNN_TILED_GEMM_GLSL
#extension GL_EXT_control_flow_attributes : require

#define TX 16
#define TY 16
#define TM 4
#define TN 4
#define BM (TY * TM)
#define BN (TX * TN)
#define BK 16
#define THREADS (TX * TY)

shared afloat As[BK][BM];
shared afloat Bs[BK][BN];
afloat acc[TM][TN];

void tile_clear()
{
    [[unroll]] for (uint i = 0u; i < TM; ++i)
        [[unroll]] for (uint j = 0u; j < TN; ++j) acc[i][j] = afloat(0);
}

// acc += As·Bs for this invocation's rows and columns of the staged slice.
void tile_multiply()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    [[unroll]] for (uint kk = 0u; kk < BK; ++kk)
    {
        afloat a[TM], b[TN];
        [[unroll]] for (uint i = 0u; i < TM; ++i) a[i] = As[kk][ty + TY * i];
        [[unroll]] for (uint j = 0u; j < TN; ++j) b[j] = Bs[kk][tx + TX * j];
        [[unroll]] for (uint i = 0u; i < TM; ++i)
            [[unroll]] for (uint j = 0u; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
}
#endif
