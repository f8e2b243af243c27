using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>A layer of a small MNIST-size CNN at batch 64: the node, its input shapes (activation first; a
/// conv's or linear's weight and bias; BatchNorm's scale, bias, mean and variance) and its multiply-accumulates (the
/// forward's; backward does twice as many; 0 for a memory-bound layer, whose throughput is then its elements).</summary>
public sealed record TrainingLayer(string Name, string Op, TensorShape[] Inputs, long Macs, Attributes Attributes)
{
    public TrainingLayer(string name, string op, TensorShape x, TensorShape w, long macs, Attributes attributes)
        : this(name, op, [x, w, new TensorShape(w[0])], macs, attributes) { }

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
        new("batchnorm 32 @28", "BatchNormalization", [[64, 32, 28, 28], [32], [32], [32], [32]], 0,
            new Attributes().Set("training_mode", 1L)),
        new("maxpool 2x2 32 @28", "MaxPool", [[64, 32, 28, 28]], 0,
            new Attributes().Set("kernel_shape", new[] { 2, 2 }).Set("strides", new[] { 2, 2 })),
    ];

    [ParamsSource(nameof(Cases))]
    public TrainingLayer Case { get; set; } = null!;

    public static (double, string) Work(BenchmarkCase c) => WorkOf.Param<TrainingLayer>(c, nameof(Case)) is var l && l.Macs > 0
        ? (6.0 * l.Macs, "FLOP") : (l.Inputs[0].ElementCount, "element");

    private OpRecording _op = null!;

    [GlobalSetup]
    public void Setup()
    {
        _op = new OpRecording(BenchmarkDevice.Create());
        var node = new Node(Case.Op, Case.Name, Case.Inputs.Select((_, i) => $"in{i}"), ["y"], Case.Attributes);
        TensorShape?[] shapes = Case.Inputs;
        var constants = new HostTensor?[shapes.Length];
        var ys = NodeKernels.InferShapes(node, shapes, constants)[0];
        var rng = new Random(1);
        // Values in [low, low + 0.5): [0.5, 1) for BatchNorm's variance (input 4), [-0.5, 0) elsewhere.
        Tensor Make(TensorShape s, float low = -0.5f) =>
            _op.Own(Tensor.FromData(_op.Gpu, s,
                Enumerable.Range(0, (int)s.ElementCount).Select(_ => low + rng.NextSingle() * 0.5f).ToArray()));
        var inputs = Case.Inputs.Select((s, i) => Make(s, Case.Op == "BatchNormalization" && i == 4 ? 0.5f : -0.5f)).ToArray();
        var forward = _op.Forward(node, shapes, constants, inputs, [Make(ys)], training: true);
        // Gradients for the activation and, where the layer has them, its parameters (not BatchNorm's mean and variance).
        _op.Backward(forward, [Make(ys)],
            Case.Inputs.Select((s, i) => Case.Op == "BatchNormalization" && i >= 3 ? null : Make(s)).ToArray());
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
