using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using System.Diagnostics;
using System.Text.Json;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// Training images/s of the small CNN (forward + backward + SGD, batch 64, one submission per
/// step), with PyTorch on the CPU (Debian python3-torch, threads = cores) measured in the same run
/// as the peer; the ratio is printed. The peer is skipped with a note when python3-torch is absent.
/// </summary>
public class SmallCnnTrainingBenchmarks : IDisposable
{
    private const int Batch = 64;
    private GpuDevice _gpu = null!;
    private Trainer _trainer = null!;
    private float[] _images = null!, _labels = null!;

    public static (double, string) Work(BenchmarkCase c) => (Batch, "image");

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        Init.ManualSeed(0);
        _trainer = new Trainer(_gpu, SmallModels.SmallCnn(), [Batch, 1, 28, 28], p =>
            new Sgd(_gpu, p, 0.05, momentum: 0.9, weightDecay: 5e-4));
        var rng = new Random(1);
        _images = Enumerable.Range(0, Batch * 784).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        _labels = Enumerable.Range(0, Batch).Select(_ => (float)rng.Next(10)).ToArray();
        _trainer.Step(_images, _labels, 0.05);
        PrintProfile();
        if (TorchPeer() is { } torch)
            Console.WriteLine($"// PyTorch {torch.Version} CPU ({torch.Threads} threads): {torch.ImagesPerSecond:0} images/s training " +
                $"the same small CNN at batch {Batch}");
    }

    /// <summary>Where a step's time goes, per layer (forward and backward), from a second trainer with timestamps.</summary>
    private void PrintProfile()
    {
        Init.ManualSeed(0);
        using var profiled = new Trainer(_gpu, SmallModels.SmallCnn(), [Batch, 1, 28, 28], p => new Sgd(_gpu, p, 0.05, momentum: 0.9),
            new TrainerOptions { Profile = true });
        profiled.Step(_images, _labels, 0.05);
        profiled.Step(_images, _labels, 0.05);
        var report = profiled.LastStepProfile();
        foreach (var l in report.Layers.OrderByDescending(l => l.Milliseconds).Take(8))
            Console.WriteLine($"//   {l.Name} ({l.OpType}): {l.Milliseconds:0.00} ms ({l.Share:P0}) {l.Kernels}");
    }

    [Benchmark(Description = "small-cnn train step, batch 64")]
    public void TrainStep() => _trainer.Step(_images, _labels, 0.05);

    /// <summary>Runs the PyTorch script once; null (with a note) when Debian's python3-torch is not installed.</summary>
    public static (double ImagesPerSecond, int Threads, string Version)? TorchPeer()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Peers", "torch_small_cnn_train.py");
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(Batch.ToString());
        try
        {
            using var p = Process.Start(info)!;
            string output = p.StandardOutput.ReadToEnd();
            string error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) { Console.WriteLine("// PyTorch peer skipped: " + error.Trim().Split('\n')[^1]); return null; }
            var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
            return (json.GetProperty("images_per_second").GetDouble(), json.GetProperty("threads").GetInt32(),
                json.GetProperty("torch").GetString()!);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException)
        {
            Console.WriteLine("// PyTorch peer skipped: " + e.Message);
            return null;
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _trainer?.Dispose();
        _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}
