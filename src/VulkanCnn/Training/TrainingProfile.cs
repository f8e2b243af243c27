using VulkanCnn.Compiler;
using VulkanCnn.Ir;
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
    /// <summary>A node's forward or backward kernels: those before <paramref name="KernelEnd"/> and after the previous segment's
    /// end.</summary>
    public readonly record struct Segment(Node Node, bool Backward, int KernelEnd);

    private int _marked;

    /// <summary>A start, one per segment, one after the optimizer.</summary>
    public int TimestampCount => segments.Count + 2;

    /// <summary>Before the step's first kernel.</summary>
    public void Begin(CommandRecording recording)
    {
        recording.Timestamp("start");
        Mark(recording, 0);
    }

    /// <summary>After <paramref name="dispatched"/> of the step's kernels: a timestamp for every segment they complete.</summary>
    public void Mark(CommandRecording recording, int dispatched)
    {
        for (; _marked < segments.Count
            && segments[_marked].KernelEnd <= dispatched; _marked++) recording.Timestamp(segments[_marked].Node.Name);
    }

    /// <summary>After the optimizer.</summary>
    public void End(CommandRecording recording) => recording.Timestamp("optimizer");

    public ProfileReport Read(CommandRecording recording)
    {
        var ts = recording.ReadTimestamps();
        var layers = new List<(string, string, IEnumerable<BoundKernel>, double, double?)>();
        int from = 0;
        for (int k = 0; k < segments.Count; k++)
        {
            var s = segments[k];
            // GFLOP/s only for the forward pass: what a layer's backward computes depends on which gradients it needs.
            layers.Add((s.Backward ? s.Node.Name + " (backward)" : s.Node.Name, s.Node.OpType, kernels.Skip(from).Take(s.KernelEnd - from),
                ts[k + 1].Milliseconds - ts[k].Milliseconds, s.Backward ? null : OpCost.Flops(s.Node, shapes)));
            from = s.KernelEnd;
        }
        layers.Add(("optimizer", "", [], ts[^1].Milliseconds - ts[^2].Milliseconds, null));
        return SessionProfiling.Report(layers, 1);
    }
}
