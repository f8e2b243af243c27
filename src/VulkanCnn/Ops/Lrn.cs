using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>LRN: cross-channel local response normalisation over axis 1 (shader <c>lrn</c>), as in AlexNet and GoogLeNet.</summary>
internal sealed class Lrn : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["LRN"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank < 3) throw c.Error($"input {x} must be N x C x D1 x … (rank ≥ 3)");
        if (!c.Node.Attributes.Has("size")) throw c.Error("attribute size is required");
        long size = c.Int("size", 0);
        if (size < 1) throw c.Error($"size {size} must be positive");
        return [x];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        int size = (int)c.Int("size", 0);
        long count = x.ElementCount;
        uint inner = checked((uint)(count / x[0] / x[1]));
        var limits = c.Device.Info.Limits;
        if (x[1] > limits.MaxWorkGroupCount[1]) throw c.Unsupported($"input {x} has more channels than one dispatch can cover");
        // ONNX window: [c - floor((size-1)/2), c + ceil((size-1)/2)], clipped to the channels.
        var push = new Push((uint)x[0], (uint)x[1], inner, (uint)((size - 1) / 2), (uint)(size / 2),
            c.Float("alpha", 1e-4f) / size, c.Float("beta", 0.75f), c.Float("bias", 1f));
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("lrn", 2, Marshal.SizeOf<Push>(), local));
        var groups = ((inner + local - 1) / local, (uint)x[1], Math.Min((uint)x[0], limits.MaxWorkGroupCount[2]));
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], groups, push);
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Push(uint N, uint C, uint Inner, uint Lo, uint Hi, float AlphaOverSize, float Beta, float Bias);
}
