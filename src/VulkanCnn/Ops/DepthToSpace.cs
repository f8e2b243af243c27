using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>DepthToSpace (blocksize; mode DCR, the default, or CRD) and its inverse SpaceToDepth
/// on NCHW tensors (shader <c>depth_to_space</c>).</summary>
internal sealed class DepthToSpace : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["DepthToSpace", "SpaceToDepth"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank != 4) throw c.Error($"input {x} must be 4-D (NCHW)");
        int bs = BlockSize(c);
        Mode(c);
        if (c.Node.OpType == "SpaceToDepth")
        {
            if (x[2] % bs != 0 || x[3] % bs != 0)
                throw c.Error($"height and width of input {x} must be multiples of blocksize {bs}");
            return [new TensorShape(x[0], checked(x[1] * bs * bs), x[2] / bs, x[3] / bs)];
        }
        if (x[1] % (bs * bs) != 0)
            throw c.Error($"channels of input {x} must be a multiple of blocksize² ({bs * bs})");
        return [new TensorShape(x[0], x[1] / (bs * bs), checked(x[2] * bs), checked(x[3] * bs))];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        var y = c.OutputShape(0);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("depth_to_space", 2, 32, local) { Constants = [(uint)Mode(c)] });
        ReadOnlySpan<uint> push = [checked((uint)y.ElementCount), (uint)y[1], (uint)y[2], (uint)y[3], (uint)x[1], (uint)x[2], (uint)x[3],
            (uint)BlockSize(c)];
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], c.Grid1D(y.ElementCount, local), MemoryMarshal.AsBytes(push));
    }

    private static int BlockSize(OpContext c)
    {
        long bs = c.Int("blocksize", 0);
        if (bs < 1 || bs > 1 << 15) throw c.Error($"blocksize {bs} must be a positive integer (it is required)");
        return (int)bs;
    }

    private static int Mode(OpContext c)
    {
        if (c.Node.OpType == "SpaceToDepth") return 2;
        return (c.String("mode") ?? "DCR") switch
        {
            "DCR" => 0,
            "CRD" => 1,
            var m => throw c.Error($"mode '{m}' is not DCR or CRD"),
        };
    }
}
