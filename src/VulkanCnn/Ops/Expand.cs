using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Expand(input, shape): the input broadcast against a constant shape with the
/// bidirectional (NumPy) rule, so a 1 in shape keeps the input's dimension (shader <c>expand</c>).</summary>
internal sealed class Expand : IOperator
{
    /// <summary>Push-constant bytes: uvec4 axes[6], count, elements.</summary>
    private const int PushBytes = Elementwise.MaxRank * 16 + 8;

    public IReadOnlyList<string> OpTypes { get; } = ["Expand"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        var shape = c.RequireConstant(1, "shape").AsInts();
        string target = $"[{string.Join(", ", shape)}]";
        if (shape.Any(d => d < 0)) throw c.Error($"shape {target} has a negative dimension");
        if (shape.Any(d => d == 0)) throw c.Unsupported($"shape {target} makes an empty tensor");
        if (shape.Any(d => d > int.MaxValue)) throw c.Error($"shape {target} has a dimension beyond 2^31");
        var dims = Elementwise.Broadcast(input.Dimensions, shape.Select(d => (int)d).ToArray())
            ?? throw c.Error($"input {input} cannot be expanded to shape {target}");
        var output = new TensorShape(dims);
        Elementwise.PlanOrThrow(c, output, [input], allowVec4: true);
        return [output];
    }

    public void Build(OpBuildContext c)
    {
        var output = c.Output(0);
        var layout = Elementwise.PlanOrThrow(c, output.Shape, [c.InputShape(0)], allowVec4: true);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("expand", 2, PushBytes,
            local)
        { Constants = [(uint)layout.Rank, layout.Vec4 ? 1u : 0u] });
        var push = layout.Push();
        c.Dispatch(pipeline, [Elementwise.FloatInput(c, 0), output], c.Grid1D(layout.Invocations, local),
            MemoryMarshal.AsBytes(push.AsSpan()));
    }
}
