using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Reshape, Flatten, Squeeze, Unsqueeze: zero-copy views of their input (no kernel).
/// Backward (<c>reshape_backward</c>): dX += dY, the same values in the input's shape.</summary>
internal sealed class Reshape : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Reshape", "Flatten", "Squeeze", "Unsqueeze"];

    public OperatorTraits Traits(Node node) => OperatorTraits.View;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        int[] dims = input.Dimensions.ToArray();
        TensorShape result = c.Node.OpType switch
        {
            "Reshape" => ReshapeTo(c, dims, c.RequireConstant(1, "shape").AsInts(), c.Int("allowzero", 0) != 0),
            "Flatten" => Flatten(c, dims),
            "Squeeze" => Squeeze(c, dims, AxesOf(c)),
            _ => Unsqueeze(c, dims, AxesOf(c) ?? throw c.Error("Unsqueeze needs axes")),
        };
        if (result.ElementCount != input.ElementCount)
            throw c.Error($"cannot view input {input} ({input.ElementCount} values) as {result} ({result.ElementCount} values)");
        return [result];
    }

    public void Build(OpBuildContext context) { }

    /// <summary>The data input only (shape and axes are constants).</summary>
    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c) => AddGradient(c);

    /// <summary>dX += dY for any zero-copy view (Reshape family, Identity).</summary>
    internal static void AddGradient(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("reshape_backward", 2, 4, local));
        uint count = checked((uint)dx.ElementCount);
        ReadOnlySpan<uint> push = [count];
        c.Dispatch(pipeline, [dy, dx], c.Grid1D((count + 3) / 4, local), MemoryMarshal.AsBytes(push));
    }

    // Opset < 13 carries axes as an attribute, later opsets as a constant input.
    private static long[]? AxesOf(OpContext c) => c.Ints("axes") ?? (c.HasInput(1) ? c.RequireConstant(1, "axes").AsInts() : null);

    private static TensorShape ReshapeTo(OpContext c, int[] input, long[] target, bool allowZero)
    {
        var dims = new long[target.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw c.Error($"shape [{string.Join(", ", target)}] copies dimension {i}, but the input " +
                    $"{Fmt(input)} has rank {input.Length}");
                d = input[i];
            }
            if (d == -1)
            {
                if (inferred >= 0) throw c.Error($"shape [{string.Join(", ", target)}] has more than one -1");
                inferred = i;
                continue;
            }
            if (d < 0) throw c.Error($"shape [{string.Join(", ", target)}] has dimension {d}"); // 0 here: allowzero, an empty tensor
            dims[i] = d;
            known *= d;
        }
        long total = input.Aggregate(1L, (a, b) => a * b);
        if (inferred >= 0)
        {
            if (known == 0
                || total % known != 0) throw c.Error($"cannot infer -1 in shape [{string.Join(", ", target)}] for input {Fmt(input)}");
            dims[inferred] = total / known;
        }
        return new TensorShape(dims.Select(d => checked((int)d)).ToArray());
    }

    private static TensorShape Flatten(OpContext c, int[] input)
    {
        int axis = (int)c.Int("axis", 1);
        if (axis < 0) axis += input.Length;
        if (axis < 0 || axis > input.Length) throw c.Error($"axis {c.Int("axis", 1)} is out of range for input {Fmt(input)}");
        int outer = input.Take(axis).Aggregate(1, (a, b) => checked(a * b));
        int inner = input.Skip(axis).Aggregate(1, (a, b) => checked(a * b));
        return new TensorShape(outer, inner);
    }

    private static TensorShape Squeeze(OpContext c, int[] input, long[]? axes)
    {
        if (axes is null) return new TensorShape(input.Where(d => d != 1).ToArray());
        var drop = axes.Select(a => c.Axis(a, input.Length, "axes")).ToHashSet();
        foreach (int a in drop)
            if (input[a] != 1) throw c.Error($"cannot squeeze axis {a} of size {input[a]} in {Fmt(input)}");
        return new TensorShape(input.Where((_, i) => !drop.Contains(i)).ToArray());
    }

    private static TensorShape Unsqueeze(OpContext c, int[] input, long[] axes)
    {
        int rank = input.Length + axes.Length;
        var insert = axes.Select(a => c.Axis(a, rank, "axes")).ToHashSet();
        if (insert.Count != axes.Length) throw c.Error($"axes [{string.Join(", ", axes)}] repeat an axis");
        var dims = new List<int>();
        int next = 0;
        for (int i = 0; i < rank; i++) dims.Add(insert.Contains(i) ? 1 : input[next++]);
        return new TensorShape(dims.ToArray());
    }

    private static string Fmt(int[] dims) => $"[{string.Join(", ", dims)}]";
}
