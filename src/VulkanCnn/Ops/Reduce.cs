using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// ReduceSum, ReduceMean, ReduceMax, ReduceMin over any set of axes (shader <c>reduce</c>). Axes
/// come from the attribute (opset &lt; 18; &lt; 13 for ReduceSum) or the optional constant input
/// (later opsets); none means every axis unless noop_with_empty_axes=1.
/// </summary>
internal sealed class Reduce : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    /// <summary>One workgroup per output only when the outputs are too few to fill the device
    /// (reduced count ≥ this × workgroup size × outputs), as for the global pools.</summary>
    public const int GroupReductionFactor = 16;

    /// <summary>At most this many kept and this many reduced dimensions after merging neighbours.</summary>
    private const int MaxDims = 4;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        bool[] reduced = ReducedAxes(c, x);
        bool keep = c.Int("keepdims", 1) != 0;
        var dims = new List<int>();
        for (int i = 0; i < x.Rank; i++)
            if (!reduced[i]) dims.Add(x[i]);
            else if (keep) dims.Add(1);
        Plan(c, x, reduced);   // refuses layouts the kernel cannot index
        return [new TensorShape(dims.ToArray())];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        var (kept, red) = Plan(c, x, ReducedAxes(c, x));
        uint op = c.Node.OpType switch { "ReduceSum" => 0u, "ReduceMean" => 1u, "ReduceMax" => 2u, _ => 3u };
        uint outCount = checked((uint)c.OutputShape(0).ElementCount);
        uint redCount = checked((uint)(x.ElementCount / outCount));
        uint local = c.Device.DefaultWorkgroupSize;
        bool group = (long)redCount >= (long)GroupReductionFactor * local * outCount;
        var push = new Push(
            new UInt4(kept.Select(d => d.Size).ToArray()), new UInt4(kept.Select(d => d.Stride).ToArray()),
            new UInt4(red.Select(d => d.Size).ToArray()), new UInt4(red.Select(d => d.Stride).ToArray()),
            outCount, redCount);
        var pipeline = c.Pipeline(new PipelineKey("reduce", 2, Marshal.SizeOf<Push>(), local) { Constants = [op, group ? 1u : 0u] });
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], group ? c.Grid1D(outCount, 1) : c.Grid1D(outCount, local), push);
    }

    private static bool[] ReducedAxes(OpContext c, TensorShape x)
    {
        long[]? fromAttribute = c.Ints("axes");
        long[]? fromInput = c.HasInput(1) ? c.RequireConstant(1, "axes").AsInts() : null;
        if (fromAttribute is not null && fromInput is not null)
            throw c.Error("axes is given both as an attribute and as input 1");
        long[] axes = fromAttribute ?? fromInput ?? [];
        var reduced = new bool[x.Rank];
        if (axes.Length == 0)
        {
            // Empty axes: reduce everything, or nothing with noop_with_empty_axes.
            if (c.Int("noop_with_empty_axes", 0) == 0) Array.Fill(reduced, true);
            return reduced;
        }
        foreach (long a in axes)
        {
            int axis = c.Axis(a, x.Rank, "axes");
            if (reduced[axis]) throw c.Error($"axes [{string.Join(", ", axes)}] name axis {axis} twice (input {x})");
            reduced[axis] = true;
        }
        return reduced;
    }

    private readonly record struct Dim(uint Size, uint Stride);

    /// <summary>Kept and reduced dimensions, innermost last, neighbours of one kind merged, padded to <see cref="MaxDims"/>.</summary>
    private static (Dim[] Kept, Dim[] Reduced) Plan(OpContext c, TensorShape x, bool[] reduced)
    {
        var kept = new List<Dim>();
        var red = new List<Dim>();
        long stride = 1;
        bool? lastKind = null;
        for (int i = x.Rank - 1; i >= 0; i--)
        {
            if (x[i] == 1) continue;   // size-1 axes move nothing
            var list = reduced[i] ? red : kept;
            if (lastKind == reduced[i]) list[0] = new Dim(checked(list[0].Size * (uint)x[i]), list[0].Stride);
            else list.Insert(0, new Dim((uint)x[i], checked((uint)stride)));
            lastKind = reduced[i];
            stride *= x[i];
        }
        if (kept.Count > MaxDims || red.Count > MaxDims)
            throw c.Unsupported($"reducing input {x} over these axes interleaves more than {MaxDims} kept or reduced axis groups");
        while (kept.Count < MaxDims) kept.Insert(0, new Dim(1, 0));
        while (red.Count < MaxDims) red.Insert(0, new Dim(1, 0));
        return (kept.ToArray(), red.ToArray());
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct UInt4(uint X, uint Y, uint Z, uint W)
    {
        public UInt4(uint[] v) : this(v[0], v[1], v[2], v[3]) { }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(UInt4 KeptSize, UInt4 KeptStride, UInt4 RedSize, UInt4 RedStride, uint OutCount, uint RedCount);
}
