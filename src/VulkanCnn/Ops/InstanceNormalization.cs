using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>InstanceNormalization: per (n, c) mean and variance over the spatial axes, then
/// scale[c] and B[c] (shader <c>instance_norm</c>, one workgroup per plane, two-pass variance).</summary>
internal sealed class InstanceNormalization : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["InstanceNormalization"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank < 3) throw c.Error($"input {x} must be N x C x D1 x … (rank ≥ 3)");
        string[] names = ["scale", "B"];
        for (int i = 1; i <= 2; i++)
        {
            var p = c.InputShape(i);
            if (p.Rank != 1 || p[0] != x[1])
                throw c.Error($"{names[i - 1]} (input {i}) has shape {p}; input {x} has {x[1]} channels, so it must be [{x[1]}]");
        }
        return [x];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        uint planes = checked((uint)(x[0] * x[1]));
        uint size = checked((uint)(x.ElementCount / planes));
        var pipeline = c.Pipeline(new PipelineKey("instance_norm", 4, Marshal.SizeOf<Push>(), c.Device.DefaultWorkgroupSize));
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), c.Input(2), c.Output(0)], c.Grid1D(planes, 1),
            new Push(planes, (uint)x[1], size, c.Float("epsilon", 1e-5f)));
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint Planes, uint C, uint Size, float Epsilon);
}
