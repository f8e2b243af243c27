using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// TopK along one axis (shader <c>topk</c>): outputs Values and Indices (int64 indices stored as
/// float values), largest or smallest first; equal values come out by ascending index. K is the
/// constant input 1 (opset ≥ 10) or the attribute k (opset 1). Results are always sorted, which
/// sorted=0 allows.
/// </summary>
internal sealed class TopK : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["TopK"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank == 0) throw c.Error($"input {x} is a scalar: there is no axis to select along");
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        long k = K(c, x);
        if (x[axis] > 1 << 24) throw c.Unsupported($"axis {axis} of input {x} is longer than float32 indices can represent exactly");
        var dims = x.Dimensions.ToArray();
        dims[axis] = (int)k;
        return [new TensorShape(dims), new TensorShape(dims)];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        uint k = (uint)K(c, x);
        uint inner = 1;
        for (int i = axis + 1; i < x.Rank; i++) inner = checked(inner * (uint)x[i]);
        uint rows = checked((uint)(x.ElementCount / x[axis]));
        bool largest = c.Int("largest", 1) != 0;
        var pipeline = c.Pipeline(new PipelineKey("topk", 3, Marshal.SizeOf<Push>(), c.Device.DefaultWorkgroupSize)
        {
            Constants = [largest ? 1u : 0u],
        });
        c.Dispatch(pipeline, [c.Input(0), c.Output(0), c.Output(1)], c.Grid1D(rows, 1), new Push(rows, (uint)x[axis], inner, k));
    }

    private static long K(OpContext c, TensorShape x)
    {
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        long k;
        if (c.HasInput(1))
        {
            var values = c.RequireConstant(1, "K").AsInts();
            if (values.Length != 1) throw c.Error($"K (input 1) must hold one value; it has shape {c.InputShape(1)}");
            k = values[0];
        }
        else if (c.Node.Attributes.Has("k")) k = c.Int("k", 0);
        else throw c.Error("K is required (input 1, or attribute k before opset 10)");
        if (k < 0 || k > x[axis]) throw c.Error($"K = {k} is outside [0, {x[axis]}] for axis {axis} of input {x}");
        if (k == 0) throw c.Unsupported($"K = 0 gives empty outputs, which this runtime cannot hold (input {x})");
        return k;
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint Rows, uint AxisLength, uint Inner, uint K);
}
