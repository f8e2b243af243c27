using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>ArgMax and ArgMin along one axis (shader <c>argmax</c>); the int64 indices are stored as float values.</summary>
internal sealed class ArgMax : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["ArgMax", "ArgMin"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank == 0) throw c.Error($"input {x} is a scalar: there is no axis to search");
        int axis = c.Axis(c.Int("axis", 0), x.Rank);
        if (x[axis] > 1 << 24) throw c.Unsupported($"axis {axis} of input {x} is longer than float32 indices can represent exactly");
        bool keep = c.Int("keepdims", 1) != 0;
        var dims = x.Dimensions.ToArray().ToList();
        if (keep) dims[axis] = 1;
        else dims.RemoveAt(axis);
        return [new TensorShape(dims.ToArray())];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), x.Rank);
        uint inner = 1;
        for (int i = axis + 1; i < x.Rank; i++) inner = checked(inner * (uint)x[i]);
        uint outCount = checked((uint)(x.ElementCount / x[axis]));
        uint local = c.Device.DefaultWorkgroupSize;
        bool minimum = c.Node.OpType == "ArgMin";
        bool last = c.Int("select_last_index", 0) != 0;
        var pipeline = c.Pipeline(new PipelineKey("argmax", 2, Marshal.SizeOf<Push>(), local)
        {
            Constants = [minimum ? 1u : 0u, last ? 1u : 0u],
        });
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], c.Grid1D(outCount, local), new Push(outCount, (uint)x[axis], inner));
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint OutCount, uint AxisLength, uint Inner);
}
