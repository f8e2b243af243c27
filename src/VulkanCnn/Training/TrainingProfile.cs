using VulkanCnn.Graph;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>
/// Per-layer GPU times of a training step (<see cref="TrainerOptions.Profile"/>): the step's recording
/// gets a timestamp after each layer's forward kernels, after each layer's backward kernels and after
/// the optimizer, so every real step is measured as it runs (no extra submissions, no side effects).
/// </summary>
internal sealed class TrainingProfile(IReadOnlyList<TrainingProfile.Segment> segments, IReadOnlyList<BoundKernel> kernels,
    IReadOnlyDictionary<string, TensorShape> shapes)
{
    /// <summary>A node's forward or backward kernels: those before <paramref name="KernelEnd"/> and after the previous segment's end.</summary>
    public readonly record struct Segment(Node Node, bool Backward, int KernelEnd);

    /// <summary>A start, one per segment, one after the optimizer.</summary>
    public int TimestampCount => segments.Count + 2;

    public void Record(CommandRecording recording, Optimizer optimizer)
    {
        recording.Timestamp("start");
        int next = 0;
        foreach (var segment in segments)
        {
            for (; next < segment.KernelEnd; next++) recording.Dispatch(kernels[next]);
            recording.Timestamp(segment.Node.Name);
        }
        for (; next < kernels.Count; next++) recording.Dispatch(kernels[next]);
        optimizer.Record(recording);
        recording.Timestamp("optimizer");
    }

    public ProfileReport Read(CommandRecording recording)
    {
        var ts = recording.ReadTimestamps();
        var layers = new List<(string Name, string Op, string Kernels, double Ms, double? Flops)>();
        int from = 0;
        for (int k = 0; k < segments.Count; k++)
        {
            var s = segments[k];
            string shaders = string.Join(",", kernels.Skip(from).Take(s.KernelEnd - from).Select(x => x.Pipeline.Description.Shader).Distinct());
            // GFLOP/s only for the forward pass: what a layer's backward computes depends on which gradients it needs.
            layers.Add((s.Backward ? s.Node.Name + " (backward)" : s.Node.Name, s.Node.OpType, shaders,
                ts[k + 1].Milliseconds - ts[k].Milliseconds, s.Backward ? null : OpCost.Flops(s.Node, shapes)));
            from = s.KernelEnd;
        }
        layers.Add(("optimizer", "", "", ts[^1].Milliseconds - ts[^2].Milliseconds, null));
        double total = layers.Sum(l => l.Ms);
        return new ProfileReport(layers.Select(l => new LayerTiming(l.Name, l.Op, l.Kernels, l.Ms, total > 0 ? l.Ms / total : 0,
            l.Flops is { } f && l.Ms > 0 ? f / (l.Ms * 1e6) : null)).ToList(), total, 1);
    }
}
