using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Compiler;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// Whole networks built with the nn API (random weights, BN folded, activations fused) at 224x224:
/// latency of one synchronous run into a caller-provided span. ResNet-18 at batch 1 and 8, and
/// MobileNetV2 (the model ncnn's lavapipe figures include) at batch 1. MemoryDiagnoser shows the
/// managed allocations per run (0 B is the contract).
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks : IDisposable
{
    private NetworkRun _run = null!;

    public static IEnumerable<ModelCase> Cases() => [new("ResNet-18", 1), new("ResNet-18", 8), new("MobileNetV2", 1)];

    [ParamsSource(nameof(Cases))]
    public ModelCase Case { get; set; } = null!;

    /// <summary>FLOP per image at 224x224: torchvision ResNet-18 1.82 GMAC, MobileNetV2 0.30 GMAC.</summary>
    public static (double, string) Work(BenchmarkCase c)
    {
        var (model, batch) = WorkOf.Param<ModelCase>(c, nameof(Case));
        return ((model == "MobileNetV2" ? 0.601e9 : 3.64e9) * batch, "FLOP");
    }

    [GlobalSetup]
    public void Setup()
    {
        _run = new NetworkRun(Case.Model, Case.Batch, new SessionOptions());
        var m = _run.Session.Memory;
        Console.WriteLine($"// {Case.Model} batch {Case.Batch}: peak intermediate {m.PeakIntermediateBytes / 1048576.0:0.0} MiB " +
            $"vs naive {m.NaiveIntermediateBytes / 1048576.0:0.0} MiB, weights {m.WeightBytes / 1048576.0:0.0} MiB");
    }

    [Benchmark(Description = "network 224x224")]
    public void Run() => _run.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _run?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A network and batch size for <see cref="ModelBenchmarks"/>.</summary>
public sealed record ModelCase(string Model, int Batch)
{
    public override string ToString() => $"{Model} batch {Batch}";
}
