using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>LayerNormalization (opset 17): normalise over the axes [axis, rank), then Scale and the
/// optional B (shader <c>layer_norm</c>, one workgroup per row, two-pass variance). The optional
/// Mean and InvStdDev outputs hold each row's statistics, shaped [d0 … d(axis-1), 1 …] (float).</summary>
internal sealed class LayerNormalization : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["LayerNormalization"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (c.Int("stash_type",
            1) != 1) throw c.Unsupported($"stash_type {c.Int("stash_type", 1)} is not supported (statistics are float32)");
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        var normalized = x.Dimensions[axis..].ToArray();
        CheckParameter(c, 1, "Scale", x, normalized, axis);
        if (c.HasInput(2)) CheckParameter(c, 2, "B", x, normalized, axis);
        var stats = new TensorShape([.. x.Dimensions[..axis].ToArray(), .. Enumerable.Repeat(1, x.Rank - axis)]);
        // A shape per declared output, so that a runner creates no statistics nobody asked for.
        return new[] { x, stats, stats }[..Math.Clamp(c.Node.Outputs.Count, 1, 3)];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        long size = 1;
        for (int i = axis; i < x.Rank; i++) size *= x[i];
        uint rows = checked((uint)(x.ElementCount / size));
        bool hasBias = c.HasInput(2);
        bool stats = c.HasOutput(1) || c.HasOutput(2);
        var pipeline = c.Pipeline(new PipelineKey("layer_norm", 6, Marshal.SizeOf<Push>(), c.Device.DefaultWorkgroupSize)
        {
            Constants = [hasBias ? 1u : 0u, stats ? 1u : 0u],
        });
        // Without B the scale buffer is bound in its place (never read: HAS_BIAS is false); without
        // statistics Y stands in for Mean and InvStdDev (never written: STATS is false), and an
        // omitted one of the two gets a scratch row.
        Tensor Stat(int k, string key) => !stats ? c.Output(0) : c.HasOutput(k) ? c.Output(k) : c.Scratch(key, new TensorShape((int)rows));
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), c.Input(hasBias ? 2 : 1), c.Output(0), Stat(1, "mean"), Stat(2, "inv_std_dev")],
            c.Grid1D(rows, 1),
            new Push(rows, checked((uint)size), c.Float("epsilon", 1e-5f)));
    }

    /// <summary>Scale and B hold one value per normalised element: the normalised shape, leading 1s allowed.</summary>
    private static void CheckParameter(OpContext c, int index, string name, TensorShape x, int[] normalized, int axis)
    {
        var p = c.InputShape(index);
        var trimmed = p.Dimensions.ToArray().SkipWhile(d => d == 1).ToArray();
        var expected = normalized.SkipWhile(d => d == 1).ToArray();
        if (!trimmed.SequenceEqual(expected))
            throw c.Error($"{name} (input {index}) has shape {p}; normalising input {x} over axes [{axis}, {x.Rank}) needs " +
                $"[{string.Join(", ", normalized)}]");
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint Rows, uint Size, float Epsilon);
}
