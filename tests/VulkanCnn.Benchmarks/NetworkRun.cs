using VulkanCnn.Compiler;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>A whole network at 224x224 (random weights, seeded) compiled with given options on the benchmark device, and one
/// synchronous run into a caller-provided span: what <see cref="ModelBenchmarks"/> and <see cref="SessionOptionBenchmarks"/>
/// time.</summary>
public sealed class NetworkRun : IDisposable
{
    private readonly GpuDevice _gpu;
    private readonly float[] _input, _output;

    public NetworkRun(string model, int batch, SessionOptions options)
    {
        _gpu = BenchmarkDevice.Create();
        Init.ManualSeed(18);
        TensorShape shape = [batch, 3, 224, 224];
        Module network = model == "MobileNetV2" ? new MobileNetV2() : ResNet.ResNet18();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Session = _gpu.Compile(network, shape, options);
        CompileSeconds = clock.Elapsed.TotalSeconds;
        _input = new float[shape.ElementCount];
        var rng = new Random(1);
        for (int i = 0; i < _input.Length; i++) _input[i] = rng.NextSingle();
        _output = new float[Session.OutputShape.ElementCount];
        Run();
    }

    public Session Session { get; }
    public double CompileSeconds { get; }

    public void Run() => Session.Run(_input, _output);

    public void Dispose()
    {
        Session.Dispose();
        _gpu.Dispose();
    }
}
