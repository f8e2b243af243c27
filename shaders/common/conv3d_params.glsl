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

#include "window_taps.glsl"
#endif
