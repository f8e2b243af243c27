using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>One layer's share of a profiled run.</summary>
public sealed record LayerTiming(string Name, string OpType, string Kernels, double Milliseconds, double Share, double? GflopPerSecond)
{
    /// <summary>The kernel variant the layer runs (null: an operator with one way only).</summary>
    public string? Variant { get; init; }

    /// <summary>How the layer stores its tensors (<see cref="SessionOptions.Precision"/>).</summary>
    public DataType Storage { get; init; } = DataType.Float32;

    /// <summary>Why the layer stays fp32 in a session that asked for fp16 (no fp16 kernel, or the Auto calibration); else null.</summary>
    public string? Fp32Reason { get; init; }
}

/// <summary>Per-layer GPU times of a session (medians over runs), from timestamp queries.</summary>
public sealed record ProfileReport(IReadOnlyList<LayerTiming> Layers, double TotalMilliseconds, int Runs)
{
    public override string ToString() => string.Join(Environment.NewLine, Layers.Select(l =>
        $"{l.Name,-40} {l.OpType + (l.Variant is { } v ? $" ({v})" : ""),-20} {l.Milliseconds,9:0.000} ms {l.Share,6:P1} " +
            $"{(l.GflopPerSecond is { } g ? $"{g,8:0.00} GFLOP/s" : ""),-14}" +
            (l.Storage == DataType.Float16 ? " fp16" : l.Fp32Reason is { } r ? $" fp32: {r}" : "")).Select(line => line.TrimEnd()));
}

/// <summary>Profiling and frame-budget slicing of a session.</summary>
public static class SessionProfiling
{
    /// <summary>Runs the default plan <paramref name="runs"/> times (after a warm-up) with a timestamp after every layer.</summary>
    public static ProfileReport Profile(this Session session, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var plan = session.DefaultPlan;
        var samples = plan.Steps.Select(_ => new List<double>()).ToList();
        session.Enter();
        try
        {
            // Layers one after another (a barrier between all commands), so each layer's time is its own and a frame slice
            // built from these times stays within its budget.
            using var rec = new CommandRecording(session.Device, plan.Compiled.Graph.Name + " (profile)", plan.Steps.Count + 1,
                BarrierPolicy.EveryCommand);
            rec.Timestamp("start");
            plan.Record(rec, 0, plan.Steps.Count, copyInputs: false, copyOutputs: false, afterStep: k =>
                rec.Timestamp(plan.Steps[k].Node.Name));
            rec.Finish();
            rec.Run();
            for (int r = 0; r < runs; r++)
            {
                rec.Run();
                var ts = rec.ReadTimestamps();
                for (int k = 0; k < plan.Steps.Count; k++) samples[k].Add(ts[k + 1].Milliseconds - ts[k].Milliseconds);
            }
        }
        finally { session.Exit(); }
        var medians = samples.Select(Median).ToList();
        var report = Report(plan.Steps.Select((s, k) => (s.Node.Name, s.Node.OpType, (IEnumerable<BoundKernel>)s.Kernels, medians[k],
            OpCost.Flops(s.Node, plan.Compiled.Shapes))).ToList(), runs);
        var fallbacks = plan.Compiled.Storage.Fallbacks.ToDictionary(f => f.Node, f => f.Reason, StringComparer.Ordinal);
        return report with
        {
            Layers = report.Layers.Select((l, k) => l with
            {
                Variant = plan.Steps[k].Variant,
                Storage = plan.Compiled.Storage.Of(plan.Steps[k].Node),
                Fp32Reason = fallbacks.GetValueOrDefault(plan.Steps[k].Node.Name),
            }).ToList(),
        };
    }

    /// <summary>Shares of the total and GFLOP/s (where the FLOPs are known) for measured layers.</summary>
    internal static ProfileReport Report(IReadOnlyList<(string Name, string OpType, IEnumerable<BoundKernel> Kernels, double Milliseconds,
        double? Flops)> layers, int runs)
    {
        double total = layers.Sum(l => l.Milliseconds);
        return new ProfileReport(layers.Select(l =>
            new LayerTiming(l.Name, l.OpType, string.Join(",", l.Kernels.Select(x => x.Pipeline.Description.Shader).Distinct()),
            l.Milliseconds, total > 0 ? l.Milliseconds / total : 0, l.Flops is { } f && l.Milliseconds > 0 ? f / (l.Milliseconds * 1e6)
                : null)).ToList(), total, runs);
    }

    /// <summary>
    /// Splits the recorded network into slices whose measured GPU time fits
    /// <paramref name="budgetMilliseconds"/> (a layer longer than the budget gets a slice of its own),
    /// so a real-time host can submit one slice per frame and present in between.
    /// </summary>
    public static FrameSlicedRun CreateFrameSlices(this Session session, double budgetMilliseconds, ProfileReport? profile = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetMilliseconds);
        profile ??= session.Profile(3);
        var ranges = new List<(int From, int To, double Ms)>();
        int start = 0;
        double acc = 0;
        for (int k = 0; k < profile.Layers.Count; k++)
        {
            double ms = profile.Layers[k].Milliseconds;
            if (k > start && acc + ms > budgetMilliseconds)
            {
                ranges.Add((start, k, acc));
                start = k;
                acc = 0;
            }
            acc += ms;
        }
        ranges.Add((start, profile.Layers.Count, acc));
        return new FrameSlicedRun(session, ranges);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count == 0 ? 0 : s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}

/// <summary>Floating-point work of the layers that dominate CNNs (2 FLOP per multiply-add).</summary>
public static class OpCost
{
    /// <summary>Total FLOPs of the graph's conv and matmul layers.</summary>
    public static double TotalFlops(Graph graph)
    {
        var shapes = ShapeInference.Infer(graph);
        return graph.Nodes.Sum(n => Flops(n, shapes) ?? 0);
    }

    public static double? Flops(Node node, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        if (node.Outputs.Count == 0 || !shapes.TryGetValue(node.Outputs[0], out var y)) return null;
        switch (node.OpType)
        {
            case "Conv" when shapes.TryGetValue(node.Inputs[1], out var w):
                return 2.0 * y.ElementCount * (w.ElementCount / w[0]);
            case "ConvTranspose" when shapes.TryGetValue(node.Inputs[0], out var x) && shapes.TryGetValue(node.Inputs[1], out var wt):
                return 2.0 * x.ElementCount * (wt.ElementCount / wt[0]);
            case "Gemm" or "MatMul" when shapes.TryGetValue(node.Inputs[0], out var a):
                int k = node.OpType == "Gemm" && node.Attributes.Int("transA", 0) != 0 ? a[0] : a[-1];
                return 2.0 * y.ElementCount * k;
            default:
                return null;
        }
    }
}
