#version 450
// Training-time augmentation on the GPU: a random translation of up to PAD pixels (as a random
// crop of the zero-padded image) and an optional horizontal flip, per sample. The choices are a
// hash of (seed, step, sample index), read from the step buffer the trainer advances, so replaying
// the recorded step draws new ones and a resumed run draws the same ones.
#include "indexing.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 2) readonly buffer Step { int step; };
layout(push_constant) uniform Params
{
    uint count; uint channels; uint height; uint width;
    int pad; uint flip; uint seed; float fill;
} p;

uint mix32(uint h)   // MurmurHash3's 32-bit finaliser
{
    h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u; h ^= h >> 16;
    return h;
}

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint x = i % p.width;
    uint y = (i / p.width) % p.height;
    uint plane = i / (p.width * p.height);   // n * channels + c
    uint n = plane / p.channels;
    uint h = mix32(mix32(p.seed ^ mix32(uint(step) + 0x9E3779B9u)) + n);
    int span = 2 * p.pad + 1;
    int dx = int(h % uint(span)) - p.pad;
    int dy = int((h >> 8) % uint(span)) - p.pad;
    bool flipped = p.flip != 0u && ((h >> 16) & 1u) != 0u;
    int sx = (flipped ? int(p.width) - 1 - int(x) : int(x)) + dx;
    int sy = int(y) + dy;
    bool inside = sx >= 0 && sy >= 0 && sx < int(p.width) && sy < int(p.height);
    dst[i] = inside ? src[(plane * p.height + uint(sy)) * p.width + uint(sx)] : p.fill;
}
