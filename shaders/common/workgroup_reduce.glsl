// Workgroup-wide sum and max of one value per invocation, through shared memory (portable: no
// subgroup size or subgroup-arithmetic support assumed). Every invocation of the workgroup must
// call these in uniform control flow (they contain barriers); every invocation gets the result.
// Works for any workgroup size, not only powers of two. Include after the local_size layout.
#ifndef VKCNN_WORKGROUP_REDUCE_GLSL
#define VKCNN_WORKGROUP_REDUCE_GLSL
shared float vk_reduce_scratch[gl_WorkGroupSize.x];

// OP: 0 = sum, 1 = max, 2 = min.
float workgroup_reduce(float v, uint op)
{
    uint t = gl_LocalInvocationID.x;
    vk_reduce_scratch[t] = v;
    barrier();
    for (uint n = gl_WorkGroupSize.x; n > 1u;)
    {
        uint half_n = (n + 1u) / 2u;
        if (t < n - half_n)
        {
            float a = vk_reduce_scratch[t], b = vk_reduce_scratch[t + half_n];
            vk_reduce_scratch[t] = op == 0u ? a + b : op == 1u ? max(a, b) : min(a, b);
        }
        barrier();
        n = half_n;
    }
    float r = vk_reduce_scratch[0];
    // The scratch is reused by the next call: nobody may overwrite it before all have read.
    barrier();
    return r;
}

float workgroup_sum(float v) { return workgroup_reduce(v, 0u); }
float workgroup_max(float v) { return workgroup_reduce(v, 1u); }

// Row index of a one-workgroup-per-row kernel dispatched over a 2-D grid (rows > 65535).
uint workgroup_row_index()
{
    return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}
#endif
