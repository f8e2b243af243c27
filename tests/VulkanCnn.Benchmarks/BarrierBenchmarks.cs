using BenchmarkDotNet.Attributes;
using VulkanCnn.Compiler;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// The same networks as <see cref="ModelBenchmarks"/> at batch 1, recorded with barriers only where kernels'
/// buffer ranges conflict (<see cref="BarrierPolicy.Hazards"/>, the default) and with a barrier after every
/// kernel (<see cref="BarrierPolicy.EveryCommand"/>, the old recording), side by side in one run.
/// </summary>
public class BarrierBenchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private Session _session = null!;
    private float[] _input = null!, _output = null!;

    [Params("ResNet-18", "MobileNetV2")]
    public string Model { get; set; } = "";

    [Params(BarrierPolicy.Hazards, BarrierPolicy.EveryCommand)]
    public BarrierPolicy Barriers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        Init.ManualSeed(18);
        TensorShape shape = [1, 3, 224, 224];
        Module model = Model == "MobileNetV2" ? new MobileNetV2() : ResNet.ResNet18();
        _session = _gpu.Compile(model, shape, new SessionOptions { Barriers = Barriers });
        _input = new float[shape.ElementCount];
        var rng = new Random(1);
        for (int i = 0; i < _input.Length; i++) _input[i] = rng.NextSingle();
        _output = new float[_session.OutputShape.ElementCount];
        _session.Run(_input, _output);
        var rec = _session.DefaultPlan.Recording;
        Console.WriteLine($"// {Model} {Barriers}: {rec.DispatchCount} dispatches, {rec.BarrierCount} barriers");
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
