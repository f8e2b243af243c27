using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>One variant as the tuner saw it: its GPU time (ms, best of the timed runs), or why it was excluded.</summary>
public sealed record VariantTrial(string Variant, double? Milliseconds, string? Excluded = null);

/// <summary>How one node's variant was chosen under <see cref="TuningMode.Measure"/>.</summary>
public sealed record TuningDecision(string Node, string OpType, string Key, string Winner, IReadOnlyList<VariantTrial> Trials,
    bool FromStore);

/// <summary>
/// <see cref="TuningMode.Measure"/>: times every variant that can compute a node configuration on the device, on the
/// same random input, and keeps the fastest whose output agrees with the reference variant's (the first applicable one)
/// within its bound (<see cref="IKernelVariants.ErrorBound"/>: 1e-4·max(1, max|reference|) unless the variant states a
/// larger one, as Winograd F(4,3) does) — drivers miscompile, so a disagreeing variant is excluded and reported, never
/// chosen. Choices are remembered in a <see cref="TuningStore"/> by configuration, so repeated layers and later
/// sessions measure nothing.
/// </summary>
internal sealed class VariantTuner(GpuDevice device, TuningStore store)
{
    public const double Tolerance = IKernelVariants.OpErrorBound;
    private const int TimedRuns = 3;

    public List<TuningDecision> Decisions { get; } = new();

    /// <summary>The variant to build <paramref name="node"/> with, or null when there is nothing to choose.</summary>
    public string? Choose(Node node, IReadOnlyList<TensorShape?> shapes, IReadOnlyList<HostTensor?> constants)
    {
        var context = new OpContext(node, shapes, constants);
        if (context.String(VariantSelector.Attribute) is not null) return null; // the node names its own
        var applicable = VariantSelector.Applicable(context, device);
        if (applicable.Count < 2) return null;
        string key = Key(node, shapes, constants);
        if (store.Find(key) is { } known && applicable.Contains(known.Variant))
        {
            Decisions.Add(new TuningDecision(node.Name, node.OpType, key, known.Variant,
                known.Milliseconds.Select(p => new VariantTrial(p.Key, p.Value)).ToList(), FromStore: true));
            return known.Variant;
        }
        var shaders = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var runs = new List<(string Variant, double Ms, float[] Output)>();
        var failed = new List<VariantTrial>();
        foreach (var variant in applicable)
        {
            try
            {
                var (ms, output, used) = Measure(node, shapes, constants, variant);
                foreach (var s in used) shaders[s] = Convert.ToHexString(ShaderLibrary.Hash(s));
                runs.Add((variant, ms, output));
            }
            catch (Exception e) when (runs.Count > 0
                && e is VulkanException or GraphException or ArgumentException or InvalidOperationException)
            {
                // A variant the driver or the device cannot run is excluded, not fatal; the reference (first) must run.
                failed.Add(new VariantTrial(variant, null, $"failed to run: {e.Message}"));
            }
        }
        var (winner, trials) = Decide(runs, ((IKernelVariants)NodeKernels.Operator(node)!).ErrorBound);
        trials.AddRange(failed);
        store.Add(new TunedChoice(key, winner,
            trials.Where(t => t.Milliseconds is not null).ToDictionary(t => t.Variant, t => t.Milliseconds!.Value), shaders));
        Decisions.Add(new TuningDecision(node.Name, node.OpType, key, winner, trials, FromStore: false));
        return winner;
    }

    /// <summary>The fastest run whose output agrees with the reference run's (the first); the others that disagree are
    /// excluded with the reason. The reference itself is never excluded, so there is always a winner.</summary>
    internal static (string Winner, List<VariantTrial> Trials) Decide(IReadOnlyList<(string Variant, double Ms, float[] Output)> runs,
        Func<string, double>? bound = null)
    {
        var reference = runs[0].Output;
        var trials = runs.Select((r, i) => i == 0 ? new VariantTrial(r.Variant, r.Ms)
            : Disagreement(reference, r.Output, bound?.Invoke(r.Variant) ?? Tolerance) is { } why ? new VariantTrial(r.Variant, null, why)
                : new VariantTrial(r.Variant, r.Ms)).ToList();
        return (trials.Where(t => t.Milliseconds is not null).MinBy(t => t.Milliseconds)!.Variant, trials);
    }

    /// <summary>The node configuration a choice is valid for: op type, every attribute, input shapes and which inputs are
    /// constant.</summary>
    public static string Key(Node node, IReadOnlyList<TensorShape?> shapes, IReadOnlyList<HostTensor?> constants)
    {
        var b = new StringBuilder(node.OpType).Append('|').Append(node.Outputs.Count(o => o.Length > 0)).Append(" out");
        for (int i = 0; i < shapes.Count; i++)
            b.Append('|').Append(shapes[i]?.ToString() ?? "-").Append(i < constants.Count && constants[i] is not null ? "c" : "");
        foreach (var name in node.Attributes.Names.Order(StringComparer.Ordinal))
            b.Append('|').Append(name).Append('=').Append(Format(name, node.Attributes[name]));
        return b.ToString();
    }

    // Every attribute value in full: two configurations that differ anywhere must not share a remembered choice.
    private static string Format(string name, object? v) => v switch
    {
        long or string => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        long[] a => "[" + string.Join(",", a) + "]",
        float[] a => "[" + string.Join(",", a.Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]",
        string[] a => "[" + string.Join(",", a.Select(x => x.Replace("\\", "\\\\").Replace(",", "\\,"))) + "]",
        HostTensor t => $"{t.Shape}:{(t.IsInteger ? "i" : "f")}:{Convert.ToHexString(SHA256.HashData(t.Floats is { } f
            ? MemoryMarshal.AsBytes(f.AsSpan()) : MemoryMarshal.AsBytes(t.Ints.AsSpan())))}",
        _ => throw new NotSupportedException(
            $"attribute '{name}' holds a {v?.GetType().Name ?? "null"}, which the tuning key cannot describe"),
    };

    internal static string? Disagreement(float[] reference, float[] output, double tolerance = Tolerance)
    {
        double worst = 0, scale = Math.Max(1, reference.Where(float.IsFinite).Select(MathF.Abs).DefaultIfEmpty(0).Max());
        for (int i = 0; i < reference.Length; i++)
        {
            if (output[i].Equals(reference[i])) continue; // equal values, infinities and NaN alike
            if (!float.IsFinite(output[i]) || !float.IsFinite(reference[i]))
                return $"output {i} is {output[i]} where the reference variant gives {reference[i]}";
            worst = Math.Max(worst, Math.Abs((double)output[i] - reference[i]));
        }
        return worst <= tolerance * scale ? null : $"differs from the reference variant by {worst:G3} (bound {tolerance * scale:G3})";
    }

    /// <summary>Builds the node with <paramref name="variant"/> on random activations (fixed seed) and its real constants,
    /// runs it once to warm up and <see cref="TimedRuns"/> times between timestamps; the best time and output 0.</summary>
    private (double Ms, float[] Output, IReadOnlyList<string> Shaders) Measure(Node node, IReadOnlyList<TensorShape?> shapes,
        IReadOnlyList<HostTensor?> constants, string variant)
    {
        var owned = new List<IDisposable>();
        var kernels = new List<BoundKernel>();
        try
        {
            var rng = new Random(1234);
            var inputs = shapes.Select((s, i) =>
            {
                if (s is null || s.IsEmpty) return null;
                var data = constants[i] is { Floats: { } f } ? f : constants[i] is not null ? null
                    : Enumerable.Range(0, (int)s.ElementCount).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
                if (data is null) return null;
                var t = Tensor.FromData(device, s, data, $"{node.Name}.tune{i}");
                owned.Add(t);
                return (Tensor?)t;
            }).ToList();
            var outShapes = NodeKernels.InferShapes(node, shapes, constants);
            var outputs = NodeKernels.CreateOutputs(device, node, outShapes, inputs, owned, emptyIsNull: true);
            NodeKernels.BuildForward(device, node, shapes, constants, inputs, outputs, owned, kernels, KernelMode.Inference,
                variant: variant);
            bool timestamps = device.HasComputeTimestamps;
            using var rec = new CommandRecording(device, $"tune {node.Name} {variant}", 2);
            if (timestamps) rec.Timestamp("start");
            foreach (var k in kernels) rec.Dispatch(k);
            if (timestamps) rec.Timestamp("end");
            rec.Finish();
            rec.Run();
            double best = double.MaxValue;
            for (int r = 0; r < TimedRuns; r++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                rec.Run();
                double ms = clock.Elapsed.TotalMilliseconds;
                if (timestamps)
                {
                    var ts = rec.ReadTimestamps();
                    ms = ts[1].Milliseconds - ts[0].Milliseconds;
                }
                best = Math.Min(best, ms);
            }
            return (best, outputs[0]?.ToArray() ?? [], kernels.Select(k => k.Pipeline.Description.Shader).Distinct().ToList());
        }
        finally
        {
            foreach (var k in kernels) k.Dispose();
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }
}
