namespace VulkanCnn.Vulkan;

public sealed partial class GpuDevice
{
    private readonly Dictionary<string, ComputePipeline> _pipelines = new();
    // Pipelines whose creation failed, replaced by a new attempt; destroyed with the device (kernels may hold their layouts).
    private readonly List<ComputePipeline> _failedPipelines = new();
    private readonly object _pipelineGate = new();

    /// <summary>The pipeline for <paramref name="description"/>, created on first use and owned by the device.</summary>
    public ComputePipeline GetPipeline(PipelineKey description)
    {
        ThrowIfDisposed();
        lock (_pipelineGate)
        {
            if (_pipelines.TryGetValue(description.Key, out var existing))
            {
                if (!existing.CreationFailed) return existing;
                _failedPipelines.Add(existing); // a driver error may be transient: the next request tries again
            }
            var created = new ComputePipeline(this, description);
            _pipelines[description.Key] = created;
            return created;
        }
    }

    /// <summary>Pipelines created so far, for reports (cache status, creation time).</summary>
    public IReadOnlyList<ComputePipeline> Pipelines
    {
        get { lock (_pipelineGate) return _pipelines.Values.ToList(); }
    }

    /// <summary>Workgroup counts for <paramref name="count"/> invocations of a 1-D kernel, spread over x and y
    /// because many devices cap x at 65535 groups (shaders use <c>linear_invocation_index()</c>).</summary>
    public (uint X, uint Y) Grid1D(long count, uint localSize)
    {
        long groups = Math.Max(1, (count + localSize - 1) / localSize);
        long maxX = Info.Limits.MaxWorkGroupCount[0];
        long x = Math.Min(groups, maxX);
        long y = (groups + x - 1) / x;
        if (y > Info.Limits.MaxWorkGroupCount[1])
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} invocations exceed the device's dispatch limits.");
        return ((uint)x, (uint)y);
    }

    private void DestroyPipelines()
    {
        lock (_pipelineGate)
        {
            foreach (var p in _pipelines.Values.Concat(_failedPipelines)) p.Destroy();
            _pipelines.Clear();
            _failedPipelines.Clear();
        }
    }
}
