using BenchmarkDotNet.Attributes;
using VulkanCnn.Compiler;
using VulkanCnn.Ops;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// The same networks as <see cref="ModelBenchmarks"/> at batch 1 with kernel variants chosen by the rule per device
/// class (<see cref="TuningMode.Heuristic"/>, the default) and by timing them on the device at compile time
/// (<see cref="TuningMode.Measure"/>), side by side in one run. The setup prints what measuring chose.
/// </summary>
public class TuningBenchmarks : IDisposable
{
    private NetworkRun _run = null!;

    [Params("ResNet-18", "MobileNetV2")]
    public string Model { get; set; } = "";

    [Params(TuningMode.Heuristic, TuningMode.Measure)]
    public TuningMode Tuning { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var tuning = Tuning == TuningMode.Measure ? Ops.Tuning.Measure : Ops.Tuning.Heuristic;
        _run = new NetworkRun(Model, 1, new SessionOptions { Tuning = tuning });
        Console.WriteLine($"// {Model} {Tuning}: compiled in {_run.CompileSeconds:0.0} s");
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
