using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Dropout. Inference: the output is the input (the compiler removes the node; alone it is a
/// zero-copy view). Training (<see cref="OpBuildContext.Training"/>): each element is kept with
/// probability 1 − ratio and scaled by 1 / (1 − ratio) (<c>dropout</c>); the backward multiplies
/// dY by the same mask (<c>dropout_backward</c>).
/// <para>The mask is a counter-based hash of (seed, step, element index), never stored. seed is
/// ONNX's attribute; without it a seed is derived from the node name, so two Dropouts of one
/// network differ. The step is VulkanCnn input 3 ("step"): a 1-element tensor whose 32 bits
/// (an int32 the trainer increments, written as raw bits) select the mask. It lives on the GPU,
/// so one recorded command buffer replayed with a new step value drops different elements, and
/// forward and backward agree while it is unchanged. A Dropout with a step input is a real
/// kernel (not a view) in both modes, and may also produce ONNX's mask output (1 = kept, as float).</para>
/// ratio: input 1 (opset 12+, constant) or the attribute (older opsets), default 0.5. A constant
/// false training_mode (input 2) keeps the node an identity even in training; a constant true one
/// drops as ONNX specifies outside the trainer too (a fixed step 0 when there is no step input:
/// the mask is then a function of the seed alone). A node with a training_mode input is a kernel.
/// </summary>
internal sealed class Dropout : IOperator, IDifferentiable
{
    public const int StepInput = 3;

    public IReadOnlyList<string> OpTypes { get; } = ["Dropout"];

    public OperatorTraits Traits(Node node) =>
        node.HasInput(StepInput) || node.HasInput(2) ? OperatorTraits.None : OperatorTraits.Identity | OperatorTraits.View;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (c.Int("training_mode", 0) != 0)
            throw c.Unsupported("training_mode is an input of Dropout (opset 12+), not an attribute; the runtime's training flag " +
                "selects training");
        Ratio(c);
        TrainingMode(c);
        bool mask = c.Node.Outputs.Count > 1 && c.Node.Outputs[1].Length > 0;
        if (c.HasInput(StepInput))
        {
            var step = c.InputShape(StepInput);
            if (step.ElementCount != 1) throw c.Error($"step (input {StepInput}) has shape {step}; it must hold one value");
        }
        else if (mask && !c.HasInput(2))
            throw c.Unsupported($"Dropout's mask output needs the step input (input {StepInput}) or a training_mode input");
        return mask ? [x, x] : [x];
    }

    public void Build(OpBuildContext c)
    {
        bool active = Active(c, c.Training);
        if (!c.HasInput(StepInput))
        {
            if (active && c.Training)
                throw c.Unsupported($"Dropout in training needs the step input (input {StepInput}, a 1-element int32 tensor the trainer " +
                    $"increments each step)");
            if (!c.HasInput(2)) return;   // a view of the input
        }
        bool mask = c.OutputCount > 1;
        var step = c.HasInput(StepInput) ? c.Input(StepInput) : c.WeightInt32("step", [1], [0]);
        uint local = c.Device.DefaultWorkgroupSize;
        long count = c.InputShape(0).ElementCount;
        var pipeline = c.Pipeline(new PipelineKey("dropout", 4, Marshal.SizeOf<Push>(), local)
        {
            Constants = [active ? 1u : 0u, mask ? 1u : 0u],
        });
        c.Dispatch(pipeline, [c.Input(0), step, c.Output(0), mask ? c.Output(1) : c.Output(0)],
            c.Grid1D(count, local), MakePush(c, count));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx) return;
        var dy = c.OutputGradient(0) ?? throw c.Error("the output gradient is required for the input gradient");
        bool active = Active(c, c.Training);
        uint local = c.Device.DefaultWorkgroupSize;
        long count = c.InputShape(0).ElementCount;
        var pipeline = c.Pipeline(new PipelineKey("dropout_backward", 3, Marshal.SizeOf<Push>(), local) { Constants = [active ? 1u : 0u] });
        // Active implies a step input (the forward refused otherwise); an identity binds dY in its place.
        c.Dispatch(pipeline, [dy, active ? c.Input(StepInput) : dy, dx], c.Grid1D(count, local), MakePush(c, count));
    }

    /// <summary>Drops anything: ratio &gt; 0, and a constant true training_mode, or a training build where it is not a constant
    /// false.</summary>
    private static bool Active(OpContext c, bool training) => Ratio(c) > 0 && (TrainingMode(c) ?? training);

    private static float Ratio(OpContext c)
    {
        float ratio = c.HasInput(1) ? c.RequireConstant(1, "ratio").AsFloats() is [var r] ? r
            : throw c.Error($"ratio (input 1) has shape {c.InputShape(1)}; it must be a scalar") : c.Float("ratio", 0.5f);
        if (!(ratio >= 0 && ratio < 1)) throw c.Error($"ratio {ratio} must be in [0, 1)");
        return ratio;
    }

    private static bool? TrainingMode(OpContext c)
    {
        if (!c.HasInput(2)) return null;
        return c.RequireConstant(2, "training_mode").AsFloats() is [var v] ? v != 0
            : throw c.Error($"training_mode (input 2) has shape {c.InputShape(2)}; it must be a scalar");
    }

    private static Push MakePush(OpContext c, long count)
    {
        float ratio = Ratio(c);
        uint threshold = (uint)Math.Min(uint.MaxValue, Math.Round(ratio * 4294967296.0));
        return new Push(checked((uint)count), Seed(c), threshold, 1f / (1f - ratio));
    }

    /// <summary>ONNX's seed attribute, else a stable hash (FNV-1a) of the node name.</summary>
    private static uint Seed(OpContext c)
    {
        if (c.Node.Attributes.Has("seed")) return unchecked((uint)c.Int("seed", 0));
        uint h = 2166136261;
        foreach (char ch in c.Node.Name) h = unchecked((h ^ ch) * 16777619);
        return h;
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint Count, uint Seed, uint Threshold, float Scale);
}
