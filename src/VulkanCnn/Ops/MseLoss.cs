using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// MseLoss (VulkanCnn IR op, no ONNX counterpart): (a − b)² reduced by attribute reduction —
/// mean (default), sum, or none (element-wise). Inputs of equal shape; gradients for both.
/// Shaders <c>mse_loss</c> (sum/mean in one workgroup, fixed order: bitwise reproducible) and
/// <c>mse_loss_backward</c>.
/// </summary>
internal sealed class MseLoss : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["MseLoss"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        TensorShape a = c.InputShape(0), b = c.InputShape(1);
        if (!a.Equals(b)) throw c.Error($"inputs have shapes {a} and {b}; MseLoss needs equal shapes");
        return [Reduction(c) == 0 ? a : new TensorShape()];
    }

    public void Build(OpBuildContext c)
    {
        uint reduction = Reduction(c);
        long count = c.InputShape(0).ElementCount;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("mse_loss", 3, 4, local) { Constants = [reduction] });
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), c.Output(0)], reduction == 0 ? c.Grid1D(count, local) : (1u, 1u, 1u),
            checked((uint)count));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex is 0 or 1;

    public void BuildBackward(BackwardContext c)
    {
        Tensor? da = c.InputGradient(0), db = c.InputGradient(1);
        if (da is null && db is null) return;
        var dy = c.OutputGradient(0) ?? throw c.Error("the loss gradient is required for the input gradients");
        long count = c.InputShape(0).ElementCount;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("mse_loss_backward", 5, 4, local)
        {
            Constants = [Reduction(c), da is null ? 0u : 1u, db is null ? 0u : 1u],
        });
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), dy, da ?? db!, db ?? da!], c.Grid1D(count, local), checked((uint)count));
    }

    /// <summary>0 = none, 1 = sum, 2 = mean.</summary>
    private static uint Reduction(OpContext c) => (c.String("reduction") ?? "mean") switch
    {
        "none" => 0,
        "sum" => 1,
        "mean" => 2,
        var r => throw c.Error($"reduction '{r}' is not one of none, sum, mean"),
    };
}
