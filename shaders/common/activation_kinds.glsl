// The fused activation (spec constant 3) and its codes.
#ifndef VKCNN_ACTIVATION_KINDS_GLSL
#define VKCNN_ACTIVATION_KINDS_GLSL
layout(constant_id = 3) const int ACTIVATION = 0;
// Activation codes: Ops/FusedActivation.cs ActivationKind (ShaderContractTests checks names and values).
const int ACT_NONE = 0;
const int ACT_RELU = 1;
const int ACT_LEAKY_RELU = 2;
const int ACT_CLIP = 3;
const int ACT_SIGMOID = 4;
const int ACT_TANH = 5;
const int ACT_HARD_SIGMOID = 6;
const int ACT_HARD_SWISH = 7;
const int ACT_SILU = 8;
const int ACT_ELU = 9;
const int ACT_GELU = 10;
const int ACT_GELU_TANH = 11;
#endif
