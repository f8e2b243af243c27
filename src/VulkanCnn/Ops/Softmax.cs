using System.Numerics;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Softmax and LogSoftmax over one axis (opset-13 semantics, axis default -1; the ONNX importer
/// rewrites older models' flatten-to-2-D form). Shader <c>softmax</c> views the input as
/// [outer, n, inner], so any axis runs without a transpose.
/// </summary>
internal sealed class Softmax : IOperator
{
    private readonly record struct Push(uint Rows, uint N, uint Inner);

    public IReadOnlyList<string> OpTypes { get; } = ["Softmax", "LogSoftmax"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

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

        // A GPU wants a workgroup per contiguous row (neighbouring lanes read neighbouring values)
        // and whenever the rows alone cannot fill it. A CPU device (lavapipe) runs a workgroup's
        // invocations as SIMD lanes of one core: there only a row far longer than the row count
        // is worth a workgroup (measured: 1x4096 2x faster, 64x1000 2.7x slower).
        uint local = c.Device.DefaultWorkgroupSize;
        bool perWorkgroup = c.Device.Info.Type == DeviceKind.Cpu
            ? (long)rows * 1024 <= n
            : n >= 64 && (inner == 1 || rows < 16384);
        if (perWorkgroup) local = 1u << BitOperations.Log2(local); // the tree reduction halves a power of two
        var pipeline = c.Pipeline(new PipelineKey("softmax", 2, 12, local)
        {
            Constants = [c.Node.OpType == "LogSoftmax" ? 1u : 0u, perWorkgroup ? 1u : 0u],
        });
        var groups = c.Grid1D(perWorkgroup ? (long)rows * local : rows, local);
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], groups, new Push(rows, n, checked((uint)inner)));
    }
}
