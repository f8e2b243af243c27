#version 450
// Measures the device's arithmetic ceiling: 8 independent vec4 FMA chains per invocation,
// 64 FLOP per loop iteration. The result is written so the compiler cannot drop the work.
layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) writeonly buffer Out { vec4 result[]; };
layout(push_constant) uniform Params { uint iterations; float seed; } p;

void main()
{
    vec4 s = vec4(p.seed) + vec4(gl_GlobalInvocationID.x) * 1e-7;
    vec4 m = vec4(0.999999);
    vec4 a0 = s, a1 = s + 1.0, a2 = s + 2.0, a3 = s + 3.0, a4 = s + 4.0, a5 = s + 5.0, a6 = s + 6.0, a7 = s + 7.0;
    for (uint i = 0u; i < p.iterations; ++i)
    {
        a0 = fma(a0, m, s); a1 = fma(a1, m, s); a2 = fma(a2, m, s); a3 = fma(a3, m, s);
        a4 = fma(a4, m, s); a5 = fma(a5, m, s); a6 = fma(a6, m, s); a7 = fma(a7, m, s);
    }
    result[gl_GlobalInvocationID.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}
