using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>
/// <see cref="Precision.Auto"/>: whether a device gains from fp16 storage at all, and which nodes keep fp32 because fp16 costs
/// them accuracy. Each node that has fp16 kernels runs alone in fp16 on exactly the inputs the fp32 plan gave it on the
/// calibration input; a node whose output then differs from its fp32 output by more than <see cref="Bound"/> · max|y| (or turns
/// infinite or NaN: half overflows past 65504) stays fp32. Nodes are judged one by one, so one node's error does not condemn the
/// nodes after it.
/// </summary>
internal static class PrecisionCalibration
{
    /// <summary>A node keeps fp16 while |y16 − y32| ≤ 1e-2 · max|y32| on every output: five times the fp16 op bound (two half ulps,
    /// 2e-3), so rounding alone never trips it and what does is cancellation or overflow.</summary>
    public const double Bound = 1e-2;

    /// <summary>Why <see cref="Precision.Auto"/> keeps a whole session in fp32 on <paramref name="device"/>, or null when it uses
    /// fp16.</summary>
    public static string? DeviceRefusal(DeviceInfo device, bool anyDevice) =>
        !device.Features.StorageBuffer16BitAccess ? $"device '{device.Name}' has no 16-bit storage"
        : device.Type == DeviceKind.Cpu && !anyDevice
            ? $"device '{device.Name}' is a CPU driver, where half storage costs conversions and saves no bandwidth"
        : null;

    /// <summary>Node name → why it keeps fp32, for the nodes of <paramref name="fp32"/> whose fp16 output misses the bound on
    /// <paramref name="inputs"/> (random values in [-1, 1] for graph inputs not given).</summary>
    public static Dictionary<string, string> KeepFp32(GpuDevice device, CompiledGraph fp32,
        IReadOnlyDictionary<string, HostTensor>? inputs)
    {
        using var plan = new ExecutionPlan(device, fp32, keepValues: true);
        var graphInputs = fp32.Graph.Inputs;
        for (int i = 0; i < graphInputs.Count; i++)
        {
            var shape = plan.InputShapes[i];
            var given = inputs?.GetValueOrDefault(graphInputs[i].Name);
            if (given is not null && given.Shape != shape)
                throw new ArgumentException($"Calibration input '{graphInputs[i].Name}' has shape {given.Shape}; the session's input is " +
                    $"{shape}.", nameof(inputs));
            plan.WriteInput(i, given?.AsFloats() ?? RandomValues((int)shape.ElementCount, seed: i));
        }
        plan.Recording.Run();

        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in fp32.Order)
        {
            var traits = NodeKernels.Operator(node).Traits(node);
            if (traits.HasFlag(OperatorTraits.View) || !traits.HasFlag(OperatorTraits.Fp16Storage)) continue;
            if (Check(device, fp32, plan, node) is { } reason) reasons[node.Name] = reason;
        }
        // A node judged on fp32 inputs gets fp32 inputs only if the nodes producing them store fp32 too (a Cast back from half
        // would keep the rounding), so those keep fp32 as well, through zero-copy views.
        var producers = Passes.GraphEdit.Producers(fp32.Graph);
        foreach (var node in fp32.Order.Where(n => reasons.ContainsKey(n.Name)).ToList())
            foreach (var input in node.Inputs)
            {
                var source = producers.GetValueOrDefault(input);
                while (source is not null && NodeKernels.Operator(source).Traits(source).HasFlag(OperatorTraits.View))
                    source = producers.GetValueOrDefault(source.Inputs[0]);
                if (source is not null && !reasons.ContainsKey(source.Name)
                    && NodeKernels.Operator(source).Traits(source).HasFlag(OperatorTraits.Fp16Storage))
                    reasons[source.Name] = $"feeds {node.Name}, which keeps fp32 and needs its input unrounded";
            }
        return reasons;
    }

    private static string? Check(GpuDevice device, CompiledGraph fp32, ExecutionPlan plan, Node node)
    {
        var nodeInputs = node.Inputs.Select(name => name.Length == 0 ? null
            : fp32.ConstantOf(name) is { } constant ? new NodeInput(constant, IsConstant: true)
            : new NodeInput(HostTensor.FromFloats(fp32.Shapes[name], plan.ReadValue(name)))).ToList();
        IReadOnlyList<HostTensor> half;
        try { half = NodeRunner.Run(device, node, nodeInputs, DataType.Float16); }
        catch (GraphException e) { return $"its fp16 kernels cannot run it ({e.Message})"; }
        for (int k = 0; k < node.Outputs.Count && k < half.Count; k++)
        {
            if (node.Outputs[k].Length == 0 || half[k].Floats is not { Length: > 0 } y16) continue;
            var y32 = plan.ReadValue(node.Outputs[k]);
            double max = 0, worst = 0;
            for (int i = 0; i < y32.Length; i++)
            {
                max = Math.Max(max, Math.Abs(y32[i]));
                double d = Math.Abs((double)y16[i] - y32[i]);
                worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
            }
            if (double.IsInfinity(worst)) return "fp16 overflows (past ±65504) or turns NaN on the calibration input";
            if (worst > Bound * max)
                return $"fp16 differs from fp32 by {worst / Math.Max(max, double.Epsilon):0.0e0} of max|y| on the calibration input " +
                    $"(bound {Bound:0e0})";
        }
        return null;
    }

    private static float[] RandomValues(int count, int seed)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = rng.NextSingle() * 2 - 1;
        return values;
    }
}
