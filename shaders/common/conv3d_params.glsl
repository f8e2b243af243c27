// Push constants of the conv3d_* and conv_transpose3d kernels (Ops/ConvGeometry3D.cs Conv3dParams, 100 bytes): NCDHW input,
// M output channels, a KD x KH x KW kernel, strides, dilations and leading pads per axis (trailing ones follow from the sizes).
#ifndef VKCNN_CONV3D_PARAMS_GLSL
#define VKCNN_CONV3D_PARAMS_GLSL
layout(push_constant) uniform Conv3dParams
{
    uint N, C, D, H, W;
    uint M, OD, OH, OW;
    uint KD, KH, KW, SD, SH, SW, DD, DH, DW;
    int PD, PH, PW;
    uint CG, MG;
    float alpha, beta;
} p;

// The input index a kernel tap reads for an output position along one axis, or -1 outside the input.
int conv3d_tap(uint o, uint k, uint stride, uint dilation, int pad, uint size)
{
    int i = int(o * stride + k * dilation) - pad;
    return i >= 0 && i < int(size) ? i : -1;
}

// The output position whose tap k reads input position i along one axis (i = o·stride + k·dilation − pad), or -1 when none.
int conv3d_source(uint i, uint k, uint stride, uint dilation, int pad, uint outSize)
{
    int t = int(i) + pad - int(k * dilation);
    if (t < 0 || t % int(stride) != 0) return -1;
    int o = t / int(stride);
    return o < int(outSize) ? o : -1;
}
#endif
