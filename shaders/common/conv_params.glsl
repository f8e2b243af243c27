// Push constants shared by the conv_* and conv_transpose kernels (Ops/ConvGeometry.cs ConvParams, 96 bytes).
#ifndef VKCNN_CONV_PARAMS_GLSL
#define VKCNN_CONV_PARAMS_GLSL
layout(push_constant) uniform ConvParams
{
    uint N, C, H, W;            // input
    uint M, OH, OW;             // output channels and size
    uint KH, KW, SH, SW, DH, DW;
    int PT, PL;                 // leading pads (trailing ones follow from OH/OW)
    uint CG, MG;                // input/output channels per group
    float alpha, beta;          // fused activation parameters
    uint A, B, D, E, F;         // kernel-specific (packed sizes, block counts)
} p;
#endif
