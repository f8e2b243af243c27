#version 450
// C[M,N] = A[M,K] * B[K,N], row-major, one output per invocation. The reference kernel that
// faster matmul/conv strategies are benchmarked and tested against.
#include "precision.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) writeonly buffer C { sfloat c[]; };
layout(push_constant) uniform Params { uint M; uint N; uint K; } p;

void main()
{
    uint col = gl_GlobalInvocationID.x;
    uint row = gl_GlobalInvocationID.y;
    if (row >= p.M || col >= p.N) return;
    afloat sum = afloat(0);
    for (uint k = 0u; k < p.K; ++k)
        sum += LOAD(a[row * p.K + k]) * LOAD(b[k * p.N + col]);
    c[row * p.N + col] = STORE(sum);
}
