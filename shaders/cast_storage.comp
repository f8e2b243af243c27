#version 450
// Converts a tensor between fp32 and fp16 storage (the Casts a session inserts where an fp16 node meets an fp32 one, and
// ONNX Cast between FLOAT and FLOAT16 tensors). TO_HALF (spec constant 4): fp32 -> fp16, rounding to nearest even with
// overflow to infinity (the float16_t conversion); else fp16 -> fp32, exact. Each invocation converts 4 elements.
#extension GL_EXT_shader_16bit_storage : require
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool TO_HALF = true;

// Each binding seen as float and as half (aliasing bindings is valid Vulkan); TO_HALF picks which pair is used.
layout(std430, binding = 0) readonly buffer X32 { float x32[]; };
layout(std430, binding = 0) readonly buffer X16 { float16_t x16[]; };
layout(std430, binding = 1) writeonly buffer Y32 { float y32[]; };
layout(std430, binding = 1) writeonly buffer Y16 { float16_t y16[]; };
layout(push_constant) uniform Params { uint count; } p;

void main()
{
    uint first = linear_invocation_index() * 4u;
    for (uint j = first; j < min(first + 4u, p.count); ++j)
    {
        if (TO_HALF) y16[j] = float16_t(x32[j]);
        else y32[j] = float(x16[j]);
    }
}
