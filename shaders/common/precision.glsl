// Storage type vs arithmetic type. Every kernel that includes this file is compiled twice (see
// VulkanCnn.csproj): as written (fp32 storage) and with VKCNN_FP16_STORAGE defined, where float tensors
// are stored as IEEE half (16-bit storage, no fp16 arithmetic needed). Arithmetic, accumulation and
// reductions stay fp32 (afloat); values cross between the two only through LOAD/STORE or explicit
// constructors, so a kernel that does arithmetic on a stored value fails to compile in the fp16 build.
#ifndef VKCNN_PRECISION_GLSL
#define VKCNN_PRECISION_GLSL
#ifdef VKCNN_FP16_STORAGE
#extension GL_EXT_shader_16bit_storage : require
#define sfloat float16_t
#define sfloat4 f16vec4
#else
#define sfloat float
#define sfloat4 vec4
#endif
#define afloat float
#define afloat4 vec4
#define LOAD(v) afloat(v)
#define LOAD4(v) afloat4(v)
#define STORE(v) sfloat(v)
#define STORE4(v) sfloat4(v)
#endif
