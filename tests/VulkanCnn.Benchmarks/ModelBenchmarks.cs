using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Compiler;
using VulkanCnn.Ops;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// Whole networks built with the nn API (random weights, BN folded, activations fused) at 224x224:
/// latency of one synchronous run into a caller-provided span. ResNet-18 at batch 1 and 8, and
/// MobileNetV2 (the model ncnn's lavapipe figures include) at batch 1, both also with fp16 storage; ResNet-18 b1 also with every conv
/// forced to the implicit GEMM (the kernels before Winograd, through Tuning.Fixed), and the device's
/// peak-FMA shader in the same run: the "Of peak" column is each network's effective GFLOP/s (direct-
/// convolution FLOPs ÷ latency) over the peak shader's. MemoryDiagnoser shows the managed allocations per
/// run (0 B is the contract).
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks : IDisposable
{
    private NetworkRun? _run;
    private PeakFmaBenchmarks? _peak;

    public static IEnumerable<ModelCase> Cases() =>
    [
        ModelCase.PeakFma, new("ResNet-18", 1), new("ResNet-18", 1, "gemm"), new("ResNet-18", 8), new("MobileNetV2", 1),
        new("ResNet-18", 1, Precision: Precision.Fp16), new("MobileNetV2", 1, Precision: Precision.Fp16),
    ];

    /// <summary>The case the "Of peak" column divides by.</summary>
    public static bool IsPeak(BenchmarkCase c) => WorkOf.Param<ModelCase>(c, nameof(Case)) == ModelCase.PeakFma;

    [ParamsSource(nameof(Cases))]
    public ModelCase Case { get; set; } = null!;

    /// <summary>FLOP per image at 224x224: torchvision ResNet-18 1.82 GMAC, MobileNetV2 0.30 GMAC.</summary>
    public static (double, string) Work(BenchmarkCase c)
    {
        var @case = WorkOf.Param<ModelCase>(c, nameof(Case));
        if (@case == ModelCase.PeakFma) return PeakFmaBenchmarks.Work(c);
        return ((@case.Model == "MobileNetV2" ? 0.601e9 : 3.64e9) * @case.Batch, "FLOP");
    }

    [GlobalSetup]
    public void Setup()
    {
        if (Case == ModelCase.PeakFma)
        {
            _peak = new PeakFmaBenchmarks();
            _peak.Setup();
        }
        else SetupNetwork();
    }

    private void SetupNetwork()
    {
        var options = (Case.Kernels == "gemm"
            ? new SessionOptions { Tuning = Tuning.Fixed(new Dictionary<string, string> { ["Conv"] = "gemm" }) }
            : new SessionOptions()) with
        { Precision = Case.Precision };
        _run = new NetworkRun(Case.Model, Case.Batch, options);
        var m = _run.Session.Memory;
        Console.WriteLine($"// {Case}: peak intermediate {m.PeakIntermediateBytes / 1048576.0:0.0} MiB " +
            $"vs naive {m.NaiveIntermediateBytes / 1048576.0:0.0} MiB, weights {m.WeightBytes / 1048576.0:0.0} MiB; " +
            string.Join(", ", _run.Session.Variants.GroupBy(v => v.Variant).Select(g => $"{g.Count()} {g.Key ?? "single-kernel"}")));
        // Where the time goes (layers one after another, so the sum exceeds the run's latency a little): what to work on next.
        var profile = _run.Session.Profile(runs: 2);
        foreach (var kind in profile.Layers.GroupBy(l => l.OpType + (l.Variant is { } v ? $" ({v})" : ""))
            .OrderByDescending(g => g.Sum(l => l.Milliseconds)).Take(6))
            Console.WriteLine($"//   {kind.Key}: {kind.Count()} layers, {kind.Sum(l => l.Milliseconds):0.0} ms " +
                $"({kind.Sum(l => l.Share):P0})");
    }

    [Benchmark(Description = "network 224x224")]
    public void Run()
    {
        if (_peak is not null) _peak.PeakFma();
        else _run!.Run();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _run?.Dispose();
        _peak?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A network, batch size, kernel choice and storage precision for <see cref="ModelBenchmarks"/>.</summary>
public sealed record ModelCase(string Model, int Batch, string Kernels = "", Precision Precision = Precision.Fp32)
{
    /// <summary>Not a network: the device's peak-FMA shader, timed in the same run.</summary>
    public static readonly ModelCase PeakFma = new("peak-FMA shader", 0);

    public override string ToString() => Batch == 0 ? Model
        : $"{Model} b{Batch}{(Kernels.Length > 0 ? " " + Kernels : "")}" +
            (Precision == Precision.Fp32 ? "" : " " + Precision.ToString().ToLowerInvariant());
}
