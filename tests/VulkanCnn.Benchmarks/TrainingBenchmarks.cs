using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>A trainable layer of a small MNIST-size CNN at batch 64: the node, its input shapes and its
/// multiply-accumulates (the forward's; backward does twice as many).</summary>
public sealed record TrainingLayer(string Name, string Op, TensorShape X, TensorShape W, long Macs, Attributes Attributes)
{
    public override string ToString() => Name;
}

/// <summary>
/// One forward + backward step of a layer with runtime weights (as in training): forward, then dX,
/// dW and dB. Throughput is GFLOP/s of 3 x 2 x MACs (forward, input and weight gradients).
/// </summary>
public class TrainingBenchmarks : IDisposable
{
    private static Attributes ReluConv() => new Attributes().Set("pads", new[] { 1, 1, 1, 1 }).Set(FusedActivation.KindAttribute, "Relu");

    public static IEnumerable<TrainingLayer> Cases() =>
    [
        new("conv 1->32 3x3 @28", "Conv", [64, 1, 28, 28], [32, 1, 3, 3], 64L * 32 * 28 * 28 * 9, ReluConv()),
        new("conv 32->64 3x3 @14", "Conv", [64, 32, 14, 14], [64, 32, 3, 3], 64L * 64 * 14 * 14 * 32 * 9, ReluConv()),
        new("linear 3136->128", "Gemm", [64, 3136], [128, 3136], 64L * 128 * 3136, new Attributes().Set("transB", 1)),
    ];

    [ParamsSource(nameof(Cases))]
    public TrainingLayer Case { get; set; } = null!;

    public static (double, string) Work(BenchmarkCase c) => (6.0 * WorkOf.Param<TrainingLayer>(c, nameof(Case)).Macs, "FLOP");

    private OpRecording _op = null!;

    [GlobalSetup]
    public void Setup()
    {
        _op = new OpRecording(BenchmarkDevice.Create());
        var node = new Node(Case.Op, Case.Name, ["x", "w", "b"], ["y"], Case.Attributes);
        TensorShape bs = [Case.W[0]];
        TensorShape?[] shapes = [Case.X, Case.W, bs];
        HostTensor?[] constants = [null, null, null];
        var ys = NodeKernels.InferShapes(node, shapes, constants)[0];
        var rng = new Random(1);
        Tensor Make(TensorShape s) =>
            _op.Own(Tensor.FromData(_op.Gpu, s, Enumerable.Range(0, (int)s.ElementCount).Select(_ => rng.NextSingle() - 0.5f).ToArray()));
        var forward = _op.Forward(node, shapes, constants, [Make(Case.X), Make(Case.W), Make(bs)], [Make(ys)], training: true);
        _op.Backward(forward, [Make(ys)], [Make(Case.X), Make(Case.W), Make(bs)]);
        _op.Record(Case.Name);
        _op.Run();
        foreach (var (kernel, ms) in _op.KernelTimes()) Console.WriteLine($"// {Case.Name}: {kernel} {ms:0.00} ms");
    }

    [Benchmark(Description = "forward+backward")]
    public void Step() => _op.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _op?.Dispose();
        GC.SuppressFinalize(this);
    }
}
