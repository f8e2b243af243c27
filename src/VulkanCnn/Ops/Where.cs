using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Where(condition, X, Y): X where the condition is nonzero, else Y, all three broadcast
/// NumPy-style (shader <c>where</c>). Bool/int64 constant conditions are read as floats.</summary>
internal sealed class Where : IOperator
{
    /// <summary>Push-constant bytes: uvec4 axes[6], count, elements.</summary>
    private const int PushBytes = Elementwise.MaxRank * 16 + 8;

    public IReadOnlyList<string> OpTypes { get; } = ["Where"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        if (c.InputCount != 3) throw c.Error($"needs 3 inputs (condition, X, Y), got {c.InputCount}");
        var output = Elementwise.BroadcastInputs(c, [0, 1, 2]);
        Elementwise.PlanOrThrow(c, output, [c.InputShape(0), c.InputShape(1), c.InputShape(2)], allowVec4: true);
        return [output];
    }

    public void Build(OpBuildContext c)
    {
        var output = c.Output(0);
        var layout = Elementwise.PlanOrThrow(c, output.Shape, [c.InputShape(0), c.InputShape(1), c.InputShape(2)], allowVec4: true);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("where", 4, PushBytes, local) { Constants = [(uint)layout.Rank, layout.Vec4 ? 1u : 0u] });
        var push = layout.Push();
        c.Dispatch(pipeline, [Elementwise.FloatInput(c, 0), Elementwise.FloatInput(c, 1), Elementwise.FloatInput(c, 2), output],
            c.Grid1D(layout.Invocations, local), MemoryMarshal.AsBytes(push.AsSpan()));
    }
}
