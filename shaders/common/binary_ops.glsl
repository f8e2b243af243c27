// binary.comp / binary_backward.comp OP codes (spec constant 4): BroadcastOp.Kind in Ops/Binary.cs
// (ShaderContractTests checks names and values).
#ifndef VKCNN_BINARY_OPS_GLSL
#define VKCNN_BINARY_OPS_GLSL
const uint BINARY_ADD = 0u;
const uint BINARY_SUB = 1u;
const uint BINARY_MUL = 2u;
const uint BINARY_DIV = 3u;
const uint BINARY_MAX = 4u;
const uint BINARY_MIN = 5u;
const uint BINARY_POW = 6u;
const uint BINARY_P_RELU = 7u;
const uint BINARY_FIRST = 8u;
const uint BINARY_DIV_TRUNCATE = 9u;
#endif
