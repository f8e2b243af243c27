#version 450
// Gradient clipping by global norm, deterministic (fixed summation order, no atomics).
// MODE 0: partial[slot + i] = sum of squares of grad chunk i (CHUNK values each, sequential).
// MODE 1: one invocation sums the partials in order and writes clip = min(1, max_norm / (norm + 1e-6)).
layout(local_size_x_id = 0) in;
layout(constant_id = 4) const uint MODE = 0;
const uint CHUNK = 1024u;

layout(std430, binding = 0) readonly buffer Grad { float grad[]; };
layout(std430, binding = 1) buffer Partial { float partial[]; };
layout(std430, binding = 2) buffer Hyper { float lr; float clip; float bc1; float bc2; float norm; } h;
layout(push_constant) uniform Params { uint count; uint slot; uint partials; float max_norm; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (MODE == 0u)
    {
        uint start = i * CHUNK;
        if (start >= pc.count) return;
        uint end = min(start + CHUNK, pc.count);
        float s = 0.0;
        for (uint k = start; k < end; ++k) s += grad[k] * grad[k];
        partial[pc.slot + i] = s;
    }
    else if (i == 0u)
    {
        float s = 0.0;
        for (uint k = 0u; k < pc.partials; ++k) s += partial[k];
        float norm = sqrt(s);
        h.norm = norm;
        h.clip = pc.max_norm > 0.0 ? min(1.0, pc.max_norm / (norm + 1e-6)) : 1.0;
    }
}
