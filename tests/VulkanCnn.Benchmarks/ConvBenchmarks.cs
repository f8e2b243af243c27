using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>A conv layer and the strategy that computes it (batch 1, fused ReLU). Names stay short:
/// BenchmarkDotNet cuts parameter values at 20 characters.</summary>
public sealed record ConvLayer(string Name, string Strategy, int C, int M, int HW, int K, int Stride, int Pad, int Group = 1)
{
    public int OHW => (HW + 2 * Pad - K) / Stride + 1;
    public long Macs => (long)M * OHW * OHW * (C / Group) * K * K;
    public override string ToString() => $"{Name} {Strategy}";
}

/// <summary>
/// Conv strategies on ResNet-18-like layers (plus a MobileNet-style depthwise layer). Each case
/// builds the node once through the operator registry, as a session would, then replays the
/// recorded command buffer. Throughput is GFLOP/s of the convolution (2 x MACs).
/// </summary>
public class ConvBenchmarks : IDisposable
{
    private static readonly ConvLayer[] Layers =
    [
        new("3x3 64@56", "", 64, 64, 56, 3, 1, 1),
        new("3x3 128@28", "", 128, 128, 28, 3, 1, 1),
        new("3x3 256@14", "", 256, 256, 14, 3, 1, 1),
        new("3x3 512@7", "", 512, 512, 7, 3, 1, 1),
        new("1x1s2 64@56", "", 64, 128, 56, 1, 2, 0), // ResNet downsample, 64 -> 128
        new("1x1 128@28", "", 128, 128, 28, 1, 1, 0),
        new("dw 32@56", "", 32, 32, 56, 3, 1, 1, Group: 32),
        new("dw 576@14", "", 576, 576, 14, 3, 1, 1, Group: 576), // MobileNetV2's small planes
        new("dw 960@7", "", 960, 960, 7, 3, 1, 1, Group: 960),
    ];

    public static IEnumerable<ConvLayer> Cases() =>
        from layer in Layers
        from s in new[] { "direct", "gemm", "gemm_tiled", "gemm_tiled_splitk", "1x1", "depthwise", "winograd_f2x3", "winograd_f4x3" }
        where (s is "direct" or "gemm" or "gemm_tiled" or "gemm_tiled_splitk" && layer.Group == 1) || (s == "gemm" && layer.C <= 32)
            || (s == "1x1" && layer.K == 1 && layer.Stride == 1) || (s == "depthwise" && layer.Group == layer.C)
            || (s.StartsWith("winograd", StringComparison.Ordinal) && layer.K == 3 && layer.Stride == 1 && layer.Group == 1)
        select layer with { Strategy = s };

    [ParamsSource(nameof(Cases))]
    public ConvLayer Case { get; set; } = null!;

    public static (double, string) Work(BenchmarkCase c) => (2.0 * WorkOf.Param<ConvLayer>(c, nameof(Case)).Macs, "FLOP");

    private OpRecording _op = null!;

    [GlobalSetup]
    public void Setup()
    {
        _op = new OpRecording(BenchmarkDevice.Create());
        Build(_op, Case);
        _op.Run();
    }

    [Benchmark(Description = "conv")]
    public void Conv() => _op.Run();

    /// <summary>Builds one Conv node the way a session does (through NodeKernels, the runtime's one road) and records its
    /// dispatches.</summary>
    public static void Build(OpRecording op, ConvLayer layer)
    {
        var attrs = new Attributes()
            .Set("strides", new[] { layer.Stride, layer.Stride })
            .Set("pads", new[] { layer.Pad, layer.Pad, layer.Pad, layer.Pad })
            .Set("group", layer.Group)
            .Set(ConvStrategySelector.Attribute, layer.Strategy);
        new FusedActivation(ActivationKind.Relu).WriteTo(attrs);
        var node = new Node("Conv", layer.ToString(), ["x", "w", "b"], ["y"], attrs);
        TensorShape xs = [1, layer.C, layer.HW, layer.HW], ws = [layer.M, layer.C / layer.Group, layer.K, layer.K], bs = [layer.M];
        var rng = new Random(1);
        float[] Random(TensorShape s) => Enumerable.Range(0, (int)s.ElementCount).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var (xd, wd, bd) = (Random(xs), Random(ws), Random(bs));

        TensorShape?[] shapes = [xs, ws, bs];
        HostTensor?[] constants = [null, HostTensor.FromFloats(ws, wd), HostTensor.FromFloats(bs, bd)];
        var outShape = NodeKernels.InferShapes(node, shapes, constants)[0];
        Tensor?[] inputs = [op.Own(Tensor.FromData(op.Gpu, xs, xd)), op.Own(Tensor.FromData(op.Gpu, ws, wd)),
            op.Own(Tensor.FromData(op.Gpu, bs, bd))];
        var y = op.Own(Tensor.Create(op.Gpu, outShape));
        op.Forward(node, shapes, constants, inputs, [y]);
        op.Record(node.Name);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _op?.Dispose();
        GC.SuppressFinalize(this);
    }
}
