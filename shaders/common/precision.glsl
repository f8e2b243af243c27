// Storage type vs arithmetic type. fp32 for now; fp16 storage/arithmetic will be switched
// on by device capability later without rewriting kernels.
#ifndef VKCNN_PRECISION_GLSL
#define VKCNN_PRECISION_GLSL
#define sfloat float
#define sfloat4 vec4
#define afloat float
#define afloat4 vec4
#define LOAD(v) afloat(v)
#define STORE(v) sfloat(v)
#endif
