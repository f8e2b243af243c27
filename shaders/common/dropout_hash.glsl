// Dropout's keep decision: a counter-based hash of (seed, step, element index), so the forward
// and the backward (and any replay of the same step) agree without storing a mask, and a new
// step value in the step buffer gives a new mask without re-recording. The key enters twice so
// two steps' masks are not shifts or permutations of one another.
#ifndef VKCNN_DROPOUT_HASH_GLSL
#define VKCNN_DROPOUT_HASH_GLSL
uint dropout_mix(uint h)   // MurmurHash3's 32-bit finaliser: a bijection with full avalanche
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

// True when element i is kept: its 32-bit hash is at least threshold = ratio · 2^32.
bool dropout_keep(uint seed, uint step, uint i, uint threshold)
{
    uint key = dropout_mix(seed ^ dropout_mix(step + 0x9E3779B9u));
    uint h = dropout_mix(dropout_mix(i + key) ^ dropout_mix(key ^ 0x68E31DA4u));
    return h >= threshold;
}
#endif
