#version 450
// A runtime B (training weights) repacked on the GPU into the layout Ops/Gemm.cs gives a constant
// B on the CPU: [matrices][K][N rounded up to 4], transposed from [N, K] when TRANSPOSED, zero
// padded, so gemm_blocked reads it as aligned vec4s.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool TRANSPOSED = false;

layout(std430, binding = 0) readonly buffer B { sfloat b[]; };
layout(std430, binding = 1) writeonly buffer Packed { sfloat packed[]; };
layout(push_constant) uniform Params { uint count, K, N, padded; } p;

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.count) return;
    uint j = i % p.padded, row = i / p.padded, kk = row % p.K, t = row / p.K;
    uint jc = min(j, p.N - 1u);
    afloat v = LOAD(b[t * p.K * p.N + (TRANSPOSED ? jc * p.K + kk : kk * p.N + jc)]);
    packed[i] = STORE(j < p.N ? v : afloat(0));
}
