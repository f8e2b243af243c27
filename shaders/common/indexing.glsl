// 1-D element index over a 2-D dispatch grid: the runtime splits large element counts over
// gl_NumWorkGroups.x * y because maxComputeWorkGroupCount[0] is 65535 on many devices.
#ifndef VKCNN_INDEXING_GLSL
#define VKCNN_INDEXING_GLSL
uint linear_invocation_index()
{
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}
#endif
