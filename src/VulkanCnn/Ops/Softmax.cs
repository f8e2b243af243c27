using System.Numerics;
using VulkanCnn.Graph;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Softmax and LogSoftmax over one axis (opset-13 semantics, axis default -1; the ONNX importer
/// rewrites older models' flatten-to-2-D form). Shader <c>softmax</c> views the input as
/// [outer, n, inner], so any axis runs without a transpose.
/// </summary>
public sealed class Softmax : IOperator
{
    private readonly record struct Push(uint Rows, uint N, uint Inner);

    public IReadOnlyList<string> OpTypes { get; } = ["Softmax", "LogSoftmax"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank == 0) throw c.Error("input is a scalar; softmax needs an axis");
        c.Axis(c.Int("axis", -1), x.Rank);
        return [x];
    }

    public void Build(OpBuildContext c)
    {
        var shape = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", -1), shape.Rank);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Rank; d++) inner *= shape[d];
        uint n = (uint)shape[axis], rows = checked((uint)(outer * inner));

        // A workgroup per row pays off when a row is long and there are too few rows to fill the
        // device with one invocation each (or the rows are contiguous, so invocations would read far apart).
        uint local = c.Device.DefaultWorkgroupSize;
        bool perWorkgroup = n >= 64 && (inner == 1 || rows < 4 * local);
        if (perWorkgroup) local = BitOperations.RoundUpToPowerOf2(local) == local ? local : BitOperations.RoundUpToPowerOf2(local) / 2;
        var pipeline = c.Pipeline(new KernelDescription("softmax", 2, 12, local)
        {
            Constants = [c.Node.OpType == "LogSoftmax" ? 1u : 0u, perWorkgroup ? 1u : 0u],
        });
        var groups = c.Grid1D(perWorkgroup ? (long)rows * local : rows, local);
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], groups, new Push(rows, n, checked((uint)inner)));
    }
}
