using BenchmarkDotNet.Attributes;
using VulkanCnn.Compiler;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// The networks of <see cref="ModelBenchmarks"/> at batch 1 under the session options that change how they are
/// recorded, side by side in one run: the defaults (barriers only where kernels' buffer ranges conflict, variants by the
/// rule per device class), a barrier after every kernel (the old recording), and variants measured on the device at
/// compile time. The setup prints the barrier count and what measuring chose.
/// </summary>
public class SessionOptionBenchmarks : IDisposable
{
    private NetworkRun _run = null!;

    [Params("ResNet-18", "MobileNetV2")]
    public string Model { get; set; } = "";

    [Params("default", "every-command barriers", "measured tuning")]
    public string Options { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var options = Options switch
        {
            "every-command barriers" => new SessionOptions { Barriers = BarrierPolicy.EveryCommand },
            "measured tuning" => new SessionOptions { Tuning = Tuning.Measure },
            _ => new SessionOptions(),
        };
        _run = new NetworkRun(Model, 1, options);
        var rec = _run.Session.DefaultPlan.Recording;
        Console.WriteLine($"// {Model}, {Options}: compiled in {_run.CompileSeconds:0.0} s; {rec.DispatchCount} dispatches, " +
            $"{rec.BarrierCount} barriers");
        foreach (var d in _run.Session.TuningReport?.Decisions ?? [])
            Console.WriteLine($"// {d.Node}: {string.Join(" ", d.Trials.Select(t => $"{t.Variant}={t.Milliseconds:0.000}"))}"
                + $" -> {d.Winner}");
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
