using BenchmarkDotNet.Attributes;
using VulkanCnn.Compiler;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// The same networks as <see cref="ModelBenchmarks"/> at batch 1 with kernel variants chosen by the rule per device
/// class (<see cref="TuningMode.Heuristic"/>, the default) and by timing them on the device at compile time
/// (<see cref="TuningMode.Measure"/>), side by side in one run. The setup prints what measuring changed.
/// </summary>
public class TuningBenchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private Session _session = null!;
    private float[] _input = null!, _output = null!;

    [Params("ResNet-18", "MobileNetV2")]
    public string Model { get; set; } = "";

    [Params(TuningMode.Heuristic, TuningMode.Measure)]
    public TuningMode Tuning { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        Init.ManualSeed(18);
        TensorShape shape = [1, 3, 224, 224];
        Module model = Model == "MobileNetV2" ? new MobileNetV2() : ResNet.ResNet18();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _session = _gpu.Compile(model, shape,
            new SessionOptions { Tuning = Tuning == TuningMode.Measure ? Ops.Tuning.Measure : Ops.Tuning.Heuristic });
        Console.WriteLine($"// {Model} {Tuning}: compiled in {clock.Elapsed.TotalSeconds:0.0} s");
        _input = new float[shape.ElementCount];
        var rng = new Random(1);
        for (int i = 0; i < _input.Length; i++) _input[i] = rng.NextSingle();
        _output = new float[_session.OutputShape.ElementCount];
        _session.Run(_input, _output);
        if (_session.TuningReport is { } report)
            foreach (var d in report.Decisions)
                Console.WriteLine($"// {d.Node}: {string.Join(" ", d.Trials.Select(t => $"{t.Variant}={t.Milliseconds:0.000}"))} -> " +
                    $"{d.Winner}");
    }

    [Benchmark(Description = "network 224x224 b1")]
    public void Run() => _session.Run(_input, _output);

    [GlobalCleanup]
    public void Dispose()
    {
        _session?.Dispose();
        _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}
