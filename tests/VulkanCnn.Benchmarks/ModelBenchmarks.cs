using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Graph;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// Whole ResNet-18 (random weights, BN folded, activations fused) at 224x224: latency of one
/// synchronous run into a caller-provided span, at batch 1 and 8. MemoryDiagnoser shows the
/// managed allocations per run (0 B is the contract).
/// </summary>
[MemoryDiagnoser]
public class ResNet18Benchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private Session _session = null!;
    private float[] _input = null!, _output = null!;

    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>3.64 GFLOP per image (torchvision ResNet-18 at 224x224: 1.82 GMAC).</summary>
    public static (double, string) Work(BenchmarkCase c) => (3.64e9 * WorkOf.Param<int>(c, nameof(Batch)), "FLOP");

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        Init.ManualSeed(18);
        TensorShape shape = [Batch, 3, 224, 224];
        _session = _gpu.Compile(ResNet.ResNet18(), shape);
        _input = new float[shape.ElementCount];
        new Random(1).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_input.AsSpan()));
        for (int i = 0; i < _input.Length; i++) _input[i] = (_input[i] % 1 + 1) % 1; // finite values in [0, 1)
        _output = new float[_session.OutputShape.ElementCount];
        _session.Run(_input, _output);
        var m = _session.Memory;
        Console.WriteLine($"// ResNet-18 batch {Batch}: peak intermediate {m.PeakIntermediateBytes / 1048576.0:0.0} MiB vs naive {m.NaiveIntermediateBytes / 1048576.0:0.0} MiB, weights {m.WeightBytes / 1048576.0:0.0} MiB");
    }

    [Benchmark(Description = "ResNet-18 224x224")]
    public void Run() => _session.Run(_input, _output);

    [GlobalCleanup]
    public void Dispose()
    {
        _session?.Dispose();
        _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}
