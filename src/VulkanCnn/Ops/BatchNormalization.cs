using System.Runtime.InteropServices;
using VulkanCnn.Graph;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Inference BatchNormalization over axis 1: the constant scale, B, mean and variance are folded
/// on the CPU into a per-channel scale and shift, so the kernel (<c>batch_norm</c>) is one FMA
/// per element plus the fused activation. <see cref="FoldParameters"/> is shared with the graph
/// compiler, which folds a BatchNormalization into a preceding Conv.
/// </summary>
public sealed class BatchNormalization : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["BatchNormalization"];

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation;

    private static readonly string[] ParameterNames = ["scale", "B", "input_mean", "input_var"];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (c.Int("training_mode", 0) != 0) throw c.Unsupported("training_mode=1 is not an inference op");
        if (c.Int("spatial", 1) != 1) throw c.Unsupported("spatial=0 (per-activation statistics, opset < 9) is not supported");
        if (c.Node.Outputs.Skip(1).Any(o => o.Length > 0))
            throw c.Unsupported("the running_mean/running_var (training) outputs are not supported");
        if (x.Rank < 2) throw c.Error($"input {x} must be N x C x … (rank ≥ 2)");
        for (int i = 1; i <= 4; i++)
        {
            var p = c.InputShape(i);
            if (p.Rank != 1 || p[0] != x[1])
                throw c.Error($"{ParameterNames[i - 1]} (input {i}) has shape {p}; input {x} has {x[1]} channels, so it must be [{x[1]}]");
            if (c.RequireConstant(i, ParameterNames[i - 1]).IsInteger)
                throw c.Error($"{ParameterNames[i - 1]} (input {i}) must be float");
        }
        try { Fold(c); }
        catch (ArgumentException e) { throw c.Error(e.Message); }
        return [x];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        var (scale, shift) = Fold(c);
        var act = c.Activation;
        int channels = x[1];
        long count = x.ElementCount;
        uint inner = checked((uint)(count / x[0] / channels));
        uint local = c.Device.DefaultWorkgroupSize;
        // Planes of at least a workgroup: x within the plane, y over planes (no per-element division).
        long planes = count / inner;
        bool planar = inner >= local && planes <= c.Device.Info.Limits.MaxWorkGroupCount[1];
        var pipeline = c.Pipeline(new KernelDescription("batch_norm", 4, Marshal.SizeOf<Push>(), local)
        {
            Activation = act.Kind,
            Constants = [planar ? 1u : 0u],
        });
        var groups = planar
            ? ((inner + local - 1) / local, (uint)planes, 1u)
            : c.Grid1D(count, local);
        c.Dispatch(pipeline, [c.Input(0), c.Weight("scale", [channels], scale), c.Weight("shift", [channels], shift), c.Output(0)],
            groups, new Push(checked((uint)count), (uint)channels, inner, act.Alpha, act.Beta));
    }

    private static (float[] Scale, float[] Shift) Fold(OpContext c) => FoldParameters(
        c.RequireConstant(1, "scale").AsFloats(), c.RequireConstant(2, "B").AsFloats(),
        c.RequireConstant(3, "input_mean").AsFloats(), c.RequireConstant(4, "input_var").AsFloats(),
        c.Float("epsilon", 1e-5f));

    /// <summary>
    /// Folds inference batch-norm parameters into y = x · Scale[c] + Shift[c], with
    /// Scale = scale / sqrt(var + epsilon) and Shift = B − mean · Scale (computed in double).
    /// </summary>
    /// <exception cref="ArgumentException">The four arrays differ in length, or a variance + epsilon is not positive.</exception>
    public static (float[] Scale, float[] Shift) FoldParameters(ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float epsilon)
    {
        int n = scale.Length;
        if (bias.Length != n || mean.Length != n || variance.Length != n)
            throw new ArgumentException($"BatchNormalization parameters differ in length: scale {n}, B {bias.Length}, mean {mean.Length}, var {variance.Length}.");
        var s = new float[n];
        var t = new float[n];
        for (int i = 0; i < n; i++)
        {
            double denominator = (double)variance[i] + epsilon;
            if (!(denominator > 0))
                throw new ArgumentException($"BatchNormalization channel {i}: var + epsilon = {denominator} is not positive.", nameof(variance));
            double k = scale[i] / Math.Sqrt(denominator);
            s[i] = (float)k;
            t[i] = (float)(bias[i] - mean[i] * k);
        }
        return (s, t);
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint Count, uint C, uint Inner, float Alpha, float Beta);
}
