// unary.comp / unary_backward.comp OP codes (spec constant 4): MathOp in Ops/Unary.cs
// (ShaderContractTests checks names and values).
#ifndef VKCNN_UNARY_OPS_GLSL
#define VKCNN_UNARY_OPS_GLSL
const uint UNARY_ACTIVATION = 0u;
const uint UNARY_SQRT = 1u;
const uint UNARY_EXP = 2u;
const uint UNARY_ERF = 3u;
const uint UNARY_NEG = 4u;
const uint UNARY_ABS = 5u;
const uint UNARY_CAST_TO_INTEGER = 6u;
const uint UNARY_CAST_TO_BOOL = 7u;
const uint UNARY_COPY = 8u;
const uint UNARY_CAST_TO_HALF = 9u;
#endif
