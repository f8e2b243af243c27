using BenchmarkDotNet.Attributes;
using VulkanCnn.Compiler;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// The same networks as <see cref="ModelBenchmarks"/> at batch 1, recorded with barriers only where kernels'
/// buffer ranges conflict (<see cref="BarrierPolicy.Hazards"/>, the default) and with a barrier after every
/// kernel (<see cref="BarrierPolicy.EveryCommand"/>, the old recording), side by side in one run.
/// </summary>
public class BarrierBenchmarks : IDisposable
{
    private NetworkRun _run = null!;

    [Params("ResNet-18", "MobileNetV2")]
    public string Model { get; set; } = "";

    [Params(BarrierPolicy.Hazards, BarrierPolicy.EveryCommand)]
    public BarrierPolicy Barriers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _run = new NetworkRun(Model, 1, new SessionOptions { Barriers = Barriers });
        var rec = _run.Session.DefaultPlan.Recording;
        Console.WriteLine($"// {Model} {Barriers}: {rec.DispatchCount} dispatches, {rec.BarrierCount} barriers");
    }

    [Benchmark(Description = "network 224x224 b1")]
    public void Run() => _run.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _run?.Dispose();
        GC.SuppressFinalize(this);
    }
}
