namespace VulkanCnn.Compiler;

/// <summary>
/// Where a plan's compile time went (the time to a session's first result, less the caller's import and the first run),
/// in wall time: the graph passes with shape inference, the buffers with the weights' upload, the kernels built through
/// the operators (constant weights repacked), and recording the command buffer (which waits for pipelines still
/// compiling). The driver compiles the plan's new pipelines on worker threads meanwhile: <see cref="Pipelines"/> is their
/// summed time, overlapped with the rest and not part of <see cref="Total"/>.
/// </summary>
public sealed record CompileTimes(TimeSpan Passes, TimeSpan Weights, TimeSpan Kernels, TimeSpan Pipelines, int PipelinesCreated,
    TimeSpan Recording)
{
    public TimeSpan Total => Passes + Weights + Kernels + Recording;
}
